import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit } from '@rxfit/core';
import { plotHistory } from '@rxfit/plot';

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' })],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });
const xs = tf.randomNormal([64, 2], 0, 1, 'float32', 42);
const ys = tf.tidy(() => xs.sum(1, true).greater(0).toFloat());

await lastValueFrom(
  fit(model, { xs, ys }, { epochs: 5, batchSize: 16, validationSplit: 0.25 }).pipe(
    // plots/history.svg and plots/history.png, redrawn at every epoch end
    plotHistory({ file: 'plots/history', metrics: ['loss', 'acc'] }),
  ),
);
