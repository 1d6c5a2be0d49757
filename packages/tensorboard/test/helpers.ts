import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFile, type DecodedEventFile } from '@rxfit/tensorboard';

/**
 * The reference run's model and data: an 8-16-1 dense model (layers `hidden` and `out`), 256
 * samples, batch 32, validation split 0.25, so 6 steps per epoch as in TensorFlow's files.
 */
export function referenceRun(seed = 1): { model: tf.Sequential; xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 16,
        inputShape: [8],
        activation: 'relu',
        name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        name: 'out',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'binaryCrossentropy', metrics: ['acc'] });
  const xs = tf.randomNormal<tf.Rank.R2>([256, 8], 0, 1, 'float32', seed);
  const ys = tf.tidy(() => xs.sum(1, true).greater(0).toFloat()) as tf.Tensor2D;
  return { model, xs, ys };
}

/** Decodes every event file of a run folder, merged in file-name order as TensorBoard reads them. */
export async function readRunFolder(folder: string): Promise<DecodedEventFile> {
  const names = (await readdir(folder))
    .filter((name) => name.startsWith('events.out.tfevents.'))
    .sort();
  const merged: DecodedEventFile = {};
  for (const name of names) {
    for (const [tag, entry] of Object.entries(await readEventFile(join(folder, name)))) {
      const known = merged[tag];
      if (known) known.points.push(...entry.points);
      else merged[tag] = entry;
    }
  }
  return merged;
}

/** Tag → [step, value] pairs. */
export function pointsOf(run: DecodedEventFile): Record<string, [number, unknown][]> {
  return Object.fromEntries(
    Object.entries(run).map(([tag, entry]) => [tag, entry.points.map((p) => [p.step, p.value])]),
  );
}

/** Runs `body` in a fresh temporary folder, removed afterwards. */
export async function withFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rxfit-tensorboard-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
