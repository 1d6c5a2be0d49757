import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit } from '@rxfit/core';
import { earlyStopping } from '@rxfit/early-stopping';
import { eventLog } from '@rxfit/event-log';
import { bestAccuracySink } from './best-accuracy-sink.js';

// Usage: main.ts [output folder]  (writes best.json and events.jsonl there)
const out = process.argv[2] ?? 'custom-sink-output';
await mkdir(out, { recursive: true });
await tf.setBackend('cpu');

// A tiny seeded problem: is x0 + x1 > 0? It is learnt in a few epochs, then val_acc stops improving.
const xs = tf.randomNormal([96, 4], 0, 1, 'float32', 42);
const ys = tf.tidy(() =>
  xs
    .slice([0, 0], [-1, 1])
    .add(xs.slice([0, 1], [-1, 1]))
    .greater(0)
    .toFloat(),
);
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [4],
      units: 8,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });

await lastValueFrom(
  fit(model, { xs, ys }, { epochs: 50, batchSize: 16, validationSplit: 0.25, seed: 7 }).pipe(
    earlyStopping({ monitor: 'val_acc', patience: 3 }),
    eventLog(join(out, 'events.jsonl')),
    bestAccuracySink(join(out, 'best.json')),
  ),
);
