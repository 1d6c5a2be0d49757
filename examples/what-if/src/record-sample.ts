import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit } from '@rxfit/core';
import { eventLog } from '@rxfit/event-log';

// Records sample/events.jsonl, the log main.ts replays by default: a small model that overfits
// 48 noisy samples for 30 epochs without early stopping: val_loss falls, flattens, then rises.
// Usage: node --conditions=@rxfit/source --import tsx examples/what-if/src/record-sample.ts
const path = fileURLToPath(new URL('../sample/events.jsonl', import.meta.url));
await rm(path, { force: true }); // eventLog appends: start a fresh file
await tf.setBackend('cpu');

const xs = tf.randomNormal([96, 4], 0, 1, 'float32', 3);
const noise = tf.randomNormal([96, 1], 0, 0.8, 'float32', 4);
const ys = tf.tidy(() => xs.slice([0, 0], [-1, 1]).add(noise).greater(0).toFloat());
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [4],
      units: 128,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
    }),
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.003), loss: 'binaryCrossentropy', metrics: ['acc'] });
await lastValueFrom(
  fit(
    model,
    { xs, ys },
    { epochs: 30, batchSize: 8, validationSplit: 0.5, seed: 9, runId: 'sample-overfit' },
  ).pipe(eventLog(path)),
);
console.log(`wrote ${path}`);
