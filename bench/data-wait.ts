/**
 * How long the seed CNN waits for `imageFolder` batches: trains epochs on 500x375 JPEGs
 * (augmented like the seed) and, side by side, on the same number of in-memory tensors;
 * prints the share of the epoch spent waiting for data and the epoch-time ratio (goal ≤ 2%).
 *
 *   node --conditions=@rxfit/source --import tsx bench/data-wait.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { filter, lastValueFrom, toArray } from 'rxjs';
import { fit, isEvent, type TrainingData } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { imageFolder } from '@rxfit/image-folder';
import { photo } from './image-folder-throughput.js';
import { envInt, median, seedCnn } from './models.js';

async function epochMs(model: tf.LayersModel, data: TrainingData, epoch: number): Promise<number> {
  const events = await lastValueFrom(
    fit(model, data, { epochs: epoch + 1, initialEpoch: epoch, batchSize: 32 }).pipe(
      filter((e) => e.type === 'epochBegin' || e.type === 'epochEnd'),
      toArray(),
    ),
  );
  const begin = events.find(isEvent('epochBegin'))!;
  const end = events.find(isEvent('epochEnd'))!;
  return end.time - begin.time;
}

/** Runs the measurement and prints it. */
export async function main(options: { images?: number; rounds?: number } = {}): Promise<void> {
  const images = options.images ?? 320;
  const rounds = options.rounds ?? envInt('BENCH_ROUNDS', 3);
  const backend = await useBestBackend();
  const root = await mkdtemp(join(tmpdir(), 'rxfit-data-wait-'));
  try {
    for (const c of ['cats', 'dogs']) await mkdir(join(root, c));
    for (let i = 0; i < images; i++) await writeFile(join(root, i % 2 ? 'dogs' : 'cats', `${i}.jpg`), await photo(i));
    const folder = await imageFolder(root, {
      targetSize: [64, 64], batchSize: 32, classMode: 'binary', seed: 1,
      rescale: 1 / 255, shearRange: 0.2, zoomRange: 0.2, horizontalFlip: true,
    });
    const xs = tf.randomUniform([images, 64, 64, 3]);
    const ys = tf.randomUniform([images, 1]).round();
    const model = seedCnn();
    await epochMs(model, folder, 0); // warm-up: kernels, wasm heap, workers
    await epochMs(model, { xs, ys }, 0);
    const folderTimes: number[] = [];
    const tensorTimes: number[] = [];
    const waits: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const before = folder.stats().waitMs;
      folderTimes.push(await epochMs(model, folder, round));
      waits.push(folder.stats().waitMs - before);
      tensorTimes.push(await epochMs(model, { xs, ys }, round));
    }
    const waitShare = median(waits.map((w, i) => w / folderTimes[i]!));
    console.log(`data wait: seed CNN on ${backend.name}, ${images} JPEGs 500x375 -> augmented 64x64, batch 32`);
    console.log(
      `  imageFolder epoch ${median(folderTimes).toFixed(0)} ms, in-memory tensors epoch ${median(tensorTimes).toFixed(0)} ms,` +
        ` ratio ${(median(folderTimes) / median(tensorTimes)).toFixed(3)}`,
    );
    console.log(`  waiting for data: ${(waitShare * 100).toFixed(2)}% of the imageFolder epoch (goal <= 2%)`);
    tf.dispose([xs, ys]);
    model.dispose();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
