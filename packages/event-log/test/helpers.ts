import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A fresh temporary folder, removed after the test file. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rxfit-event-log-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny compiled classifier: 4 inputs → 3 relu → 1 sigmoid, seeded initialisers. */
export function tinyModel(seed = 1): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });
  return model;
}

/** `n` samples of fixed data. */
export function tinyData(n: number): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => {
    const xs = tf.randomNormal([n, 4], 0, 1, 'float32', 7);
    const ys = tf.greater(xs.slice([0, 0], [n, 1]).add(xs.slice([0, 1], [n, 1])), 0).toFloat();
    return { xs, ys };
  });
}

/** Every weight of a model as plain arrays. */
export function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}
