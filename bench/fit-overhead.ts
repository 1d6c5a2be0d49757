/**
 * rxfit `fit` against tfjs `model.fit`: the same model, data and backend, epochs run in
 * alternation in one process; prints the ratio of median epoch times (≤ 1.03 is the goal).
 *
 *   node --conditions=@rxfit/source --import tsx bench/fit-overhead.ts
 */
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { pathToFileURL } from 'node:url';
import { fit } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { median, mlp, seedCnn } from './models.js';

interface Case {
  readonly name: string;
  readonly make: () => tf.LayersModel;
  readonly xs: () => tf.Tensor;
  readonly ys: () => tf.Tensor;
  readonly batchSize: number;
  readonly rounds: number;
}

async function timeEpoch(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function compare(c: Case): Promise<{ tfjs: number; rxfit: number; ratio: number }> {
  const xs = c.xs();
  const ys = c.ys();
  const a = c.make();
  const b = c.make();
  b.setWeights(a.getWeights());
  const tfjsTimes: number[] = [];
  const rxfitTimes: number[] = [];
  // tfjs does not export its ModelLoggingVerbosity enum; 0 is SILENT.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  const tfjsEpoch = () => a.fit(xs, ys, { epochs: 1, batchSize: c.batchSize, shuffle: true, verbose: 0 });
  const rxfitEpoch = () => lastValueFrom(fit(b, { xs, ys }, { epochs: 1, batchSize: c.batchSize, shuffle: true }));
  await tfjsEpoch(); // warm-up: kernels, wasm heap, optimizer state
  await rxfitEpoch();
  for (let round = 0; round < c.rounds; round++) {
    // Alternate which goes first so drift in machine load falls on both alike.
    if (round % 2 === 0) {
      tfjsTimes.push(await timeEpoch(tfjsEpoch));
      rxfitTimes.push(await timeEpoch(rxfitEpoch));
    } else {
      rxfitTimes.push(await timeEpoch(rxfitEpoch));
      tfjsTimes.push(await timeEpoch(tfjsEpoch));
    }
  }
  tf.dispose([xs, ys]);
  a.dispose();
  b.dispose();
  const tfjs = median(tfjsTimes);
  const rxfit = median(rxfitTimes);
  return { tfjs, rxfit, ratio: rxfit / tfjs };
}

/** Runs the comparison for the seed CNN and the MLP and prints one line each. */
export async function main(): Promise<void> {
  const backend = await useBestBackend();
  console.log(`fit overhead: rxfit fit vs tfjs model.fit, backend ${backend.name}, median epoch time`);
  const cases: Case[] = [
    {
      name: 'seed CNN 64x64x3, batch 32, 10 steps/epoch',
      make: () => seedCnn(),
      xs: () => tf.randomUniform([320, 64, 64, 3]),
      ys: () => tf.randomUniform([320, 1]).round(),
      batchSize: 32,
      rounds: Number(process.env['BENCH_ROUNDS'] ?? 5),
    },
    {
      name: 'MLP 784-128-10, batch 64, 100 steps/epoch',
      make: () => mlp(),
      xs: () => tf.randomUniform([6400, 784]),
      ys: () => tf.oneHot(tf.randomUniform([6400], 0, 10, 'int32'), 10).toFloat(),
      batchSize: 64,
      rounds: Number(process.env['BENCH_ROUNDS'] ?? 5),
    },
  ];
  for (const c of cases) {
    const r = await compare(c);
    console.log(
      `  ${c.name}: tfjs ${r.tfjs.toFixed(0)} ms, rxfit ${r.rxfit.toFixed(0)} ms, ratio rxfit/tfjs ${r.ratio.toFixed(3)}`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
