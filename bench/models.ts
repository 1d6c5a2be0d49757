import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';

export { seedCnn } from '@rxfit/example-cats-vs-dogs/seed-cnn';

/** The small MLP of the benchmarks: 784 → 128 relu → 10 softmax, adam. */
export function mlp(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/**
 * A seeded batch of the seed CNN's input (64x64 RGB) and binary labels (seeds `seed` and
 * `seed + 1`); the caller disposes it.
 */
export function seedBatch(size: number, seed = 1): { xs: tf.Tensor; ys: tf.Tensor } {
  return {
    xs: tf.randomUniform([size, 64, 64, 3], 0, 1, 'float32', seed),
    ys: tf.cast(tf.greater(tf.randomUniform([size, 1], 0, 1, 'float32', seed + 1), 0.5), 'float32'),
  };
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An integer setting from the environment (`BENCH_*`), at least `min`; `fallback` when unset. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw == null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new RangeError(`${name}=${JSON.stringify(raw)} must be an integer ≥ ${min}`);
  return n;
}

/**
 * Runs a bench script again as a child process (`<script> --child ...args`, from source, so it
 * gets a fresh backend and thread count) and parses the JSON of its last stdout line.
 */
export async function runSelfAsChild<T>(scriptUrl: string, args: readonly string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@rxfit/source', '--import', 'tsx', fileURLToPath(scriptUrl), '--child', ...args],
    { maxBuffer: 16 * 2 ** 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}
