import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';
import { lastValueFrom } from 'rxjs';
import { fit } from '@rxfit/core';
import { pinoLogger, progressBar } from '@rxfit/logger';

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' })],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });
const xs = tf.randomNormal([64, 2], 0, 1, 'float32', 42);
const ys = tf.tidy(() => xs.sum(1, true).greater(0).toFloat());

await lastValueFrom(
  fit(model, { xs, ys }, { epochs: 3, batchSize: 16, validationSplit: 0.25 }).pipe(
    progressBar(), // Keras' progress bar on stdout: a live bar on a terminal, one line per epoch in CI
    pinoLogger(pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }))), // JSON lines on stderr
  ),
);
