import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { nodeFileSystem, type FileSystemPort } from '@rxfit/checkpoint';

await tf.setBackend('cpu');

/** A fresh temporary directory, removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rxfit-checkpoint-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny compiled regression model: 3 inputs → 4 relu → 2. */
export function tinyModel(optimizer: tf.Optimizer | string = tf.train.adam(0.05)): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu' }),
      tf.layers.dense({ units: 2 }),
    ],
  });
  model.compile({ optimizer, loss: 'meanSquaredError' });
  return model;
}

/** `n` samples of fixed data. */
export function tinyData(n: number): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => {
    const xs = tf.randomNormal([n, 3], 0, 1, 'float32', 3);
    const ys = tf.concat([xs.sum(1, true), xs.slice([0, 0], [n, 1]).mul(2)], 1);
    return { xs, ys };
  });
}

/** Fixed inputs to compare predictions. */
export const probe = (): tf.Tensor =>
  tf.tensor2d([
    [0.1, -0.2, 0.3],
    [1, 2, -1],
  ]);

/** The model's outputs on {@link probe}, as a plain array. */
export function predictions(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(probe()) as tf.Tensor).dataSync()));
}

/** A copy of every weight of a model as plain arrays. */
export function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** A copy of an optimizer's state (iteration count first) as plain arrays. */
export async function optimizerState(optimizer: tf.Optimizer): Promise<number[][]> {
  const weights = await optimizer.getWeights();
  const values = weights.map((w) => Array.from(w.tensor.dataSync()));
  tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  return values;
}

/** Trains a few steps so the optimizer has state. */
export async function train(model: tf.LayersModel, steps: number): Promise<void> {
  const { xs, ys } = tinyData(8);
  for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
  tf.dispose([xs, ys]);
}

/**
 * A file system that "crashes" at its `crashAt`-th mutating call: that call and every later one
 * throw, as if the process had died there.
 */
export function crashingFileSystem(crashAt: number): FileSystemPort & { readonly calls: string[] } {
  let count = 0;
  const calls: string[] = [];
  const mutating =
    <A extends unknown[]>(name: string, op: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      count++;
      calls.push(name);
      if (count >= crashAt) throw new Error(`simulated crash at ${name} (call ${count})`);
      await op(...args);
    };
  return {
    calls,
    mkdir: mutating('mkdir', nodeFileSystem.mkdir),
    writeFile: mutating('writeFile', nodeFileSystem.writeFile),
    syncDir: mutating('syncDir', nodeFileSystem.syncDir),
    rename: mutating('rename', nodeFileSystem.rename),
    remove: mutating('remove', nodeFileSystem.remove),
    readFile: nodeFileSystem.readFile,
    readdir: nodeFileSystem.readdir,
    kind: nodeFileSystem.kind,
  };
}

/** Disposes models (and their optimizers' variables) and tensors. */
export function release(...things: (tf.LayersModel | tf.Tensor)[]): void {
  for (const thing of things) {
    if (thing instanceof tf.LayersModel) {
      thing.optimizer?.dispose();
      thing.dispose();
    } else thing.dispose();
  }
}
