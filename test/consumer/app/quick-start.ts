import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit, toHistory } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { earlyStopping } from '@rxfit/early-stopping';
import { modelCheckpoint } from '@rxfit/checkpoint';
import { csvLogger } from '@rxfit/csv-logger';

const backend = await useBestBackend(); // tfjs-node(-gpu) when installed, else WebAssembly

// A toy problem: is the sum of 4 numbers positive?
const xs = tf.randomNormal([256, 4], 0, 1, 'float32', 1);
const ys = xs.sum(1, true).greater(0).toFloat();
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
    tf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });

const run$ = fit(model, { xs, ys }, { epochs: 20, batchSize: 32, validationSplit: 0.2 }).pipe(
  earlyStopping({ monitor: 'val_loss', patience: 3 }),
  modelCheckpoint({ filepath: 'checkpoints/best', monitor: 'val_acc', saveBestOnly: true }),
  csvLogger('training.csv'),
);
const { epoch, history } = await lastValueFrom(run$.pipe(toHistory()));
console.log(
  `${backend.name}: ${epoch.length} epochs, val_acc ${history['val_acc']?.at(-1)?.toFixed(3)}`,
);
