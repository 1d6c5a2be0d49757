/**
 * rxfit `fit` against tfjs `model.fit` (or `fitDataset`) on every data path: the same model,
 * data and backend, epochs run in alternation in one process; prints, for each path, the median
 * of the rounds' paired ratios (≤ 1.02 is the goal).
 *
 *   node --conditions=@rxfit/source --import tsx bench/fit-overhead.ts
 *
 * Paths: in-memory tensors shuffled and not, `validationData` as tensors, a `BatchSource`, and a
 * `tf.data.Dataset`. `BENCH_ROUNDS` sets the rounds (default 31); `BENCH_CNN=0` skips the CNN;
 * `BENCH_THREADS` the wasm threads (default 1). The comparison runs in a child process, whose
 * backend starts with that thread count.
 *
 * Why 1 thread by default: the loop's overhead is JavaScript on the main thread, the same at any
 * thread count, but on 2 shared cores a second thread makes epoch times jitter by ±7% (XNNPACK's
 * pool thread spins between ops and competes with rxfit's kernel worker), and the ratios with it.
 * `BENCH_THREADS=2` measures there too.
 */
/* eslint-disable @typescript-eslint/no-unsafe-enum-assignment, @typescript-eslint/no-unsafe-class-instance-assignment -- tfjs exports neither its ModelLoggingVerbosity enum nor the Dataset class the layers package checks against */
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { pathToFileURL } from 'node:url';
import { fit, type BatchSource } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { envInt, median, mlp, runSelfAsChild, seedCnn } from './models.js';

interface Data {
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
  readonly vx: tf.Tensor;
  readonly vy: tf.Tensor;
  /** The training tensors in batches of {@link MLP_BATCH}, in order, for the dataset path. */
  readonly batches: readonly tf.TensorContainerObject[];
}

const MLP_BATCH = 64;

interface Case {
  readonly name: string;
  readonly make: () => tf.LayersModel;
  readonly data: () => Data;
  readonly batchSize: number;
  /** One epoch with tfjs, on model `a`. */
  readonly tfjs: (a: tf.LayersModel, d: Data, batchSize: number) => Promise<unknown>;
  /** One epoch with rxfit, on model `b`. */
  readonly rxfit: (b: tf.LayersModel, d: Data, batchSize: number) => Promise<unknown>;
}

const SILENT = 0; // tfjs does not export its ModelLoggingVerbosity enum

async function timeEpoch(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Batch `b` of a tensor pair, in order: the one batching both the source and the dataset use. */
function batchAt(xs: tf.Tensor, ys: tf.Tensor, b: number, batchSize: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const n = xs.shape[0];
  return tf.tidy(() => {
    const indices = tf.range(b * batchSize, Math.min((b + 1) * batchSize, n), 1, 'int32');
    return { xs: tf.gather(xs, indices), ys: tf.gather(ys, indices) };
  });
}

/** The batches of a tensor pair in order, as a user's own source would make them. */
function batchesOf(xs: tf.Tensor, ys: tf.Tensor, batchSize: number): BatchSource {
  const count = Math.ceil(xs.shape[0] / batchSize);
  return {
    batchesPerEpoch: count,
    size: xs.shape[0],
    async *batches() {
      for (let b = 0; b < count; b++) yield batchAt(xs, ys, b, batchSize);
    },
  };
}

/**
 * A dataset of ready batches (`tf.data.array` hands out clones of them, so the list is made once
 * and outside the timing): one `.batch()` over 10,240 single samples would time tf.data, not fit.
 */
function datasetOf(batches: readonly tf.TensorContainerObject[]): tf.data.Dataset<tf.TensorContainerObject> {
  return tf.data.array([...batches]);
}

/** The batches of a tensor pair in order, kept as tensors. */
function batchList(xs: tf.Tensor, ys: tf.Tensor, batchSize: number): { xs: tf.Tensor; ys: tf.Tensor }[] {
  return Array.from({ length: Math.ceil(xs.shape[0] / batchSize) }, (_, b) => batchAt(xs, ys, b, batchSize));
}

async function compare(c: Case, rounds: number): Promise<{ tfjs: number; rxfit: number; ratio: number }> {
  const d = c.data();
  const a = c.make();
  const b = c.make();
  b.setWeights(a.getWeights());
  const tfjsTimes: number[] = [];
  const rxfitTimes: number[] = [];
  const tfjsEpoch = () => c.tfjs(a, d, c.batchSize);
  const rxfitEpoch = () => c.rxfit(b, d, c.batchSize);
  // Warm-up: kernels, wasm heap, optimizer state, V8's tier-up of both paths.
  for (let i = 0; i < 3; i++) {
    await tfjsEpoch();
    await rxfitEpoch();
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first so drift in machine load falls on both alike.
    if (round % 2 === 0) {
      tfjsTimes.push(await timeEpoch(tfjsEpoch));
      rxfitTimes.push(await timeEpoch(rxfitEpoch));
    } else {
      rxfitTimes.push(await timeEpoch(rxfitEpoch));
      tfjsTimes.push(await timeEpoch(tfjsEpoch));
    }
  }
  tf.dispose([d.xs, d.ys, d.vx, d.vy, ...d.batches.flatMap((b) => Object.values(b) as tf.Tensor[])]);
  a.dispose();
  b.dispose();
  const tfjs = median(tfjsTimes);
  const rxfit = median(rxfitTimes);
  // The median of each round's ratio: a round's two epochs run back to back, so a drift in the
  // machine's load between rounds cancels out.
  const ratio = median(rxfitTimes.map((time, i) => time / tfjsTimes[i]!));
  return { tfjs, rxfit, ratio };
}

/**
 * Centered inputs, as normalized data is: on inputs in [0, 1) half of the 128 ReLUs never fire,
 * their Adam moments decay into float32 denormals after ~700 steps and the epochs then take about
 * 1.5x as long, on both sides alike but from mid-run on, which made the paired ratios spread by ±5%.
 */
const mlpData = (): Data =>
  tf.tidy(() => {
    const labels = (n: number) => tf.oneHot(tf.randomUniform([n], 0, 10, 'int32'), 10).toFloat();
    const xs = tf.randomUniform([10240, 784], -1, 1);
    const ys = labels(10240);
    return { xs, ys, vx: tf.randomUniform([2560, 784], -1, 1), vy: labels(2560), batches: batchList(xs, ys, MLP_BATCH) };
  });

const tensorsPath = (shuffle: boolean): Pick<Case, 'tfjs' | 'rxfit'> => ({
  tfjs: (a, d, batchSize) => a.fit(d.xs, d.ys, { epochs: 1, batchSize, shuffle, verbose: SILENT }),
  rxfit: (b, d, batchSize) => lastValueFrom(fit(b, { xs: d.xs, ys: d.ys }, { epochs: 1, batchSize, shuffle })),
});

/**
 * Every path, MLP 784-128-10 at batch 64 (160 steps an epoch: with the native wasm kernels a
 * 40-step epoch took ~200 ms, short enough for fixed costs and noise to move ratios by 3%), and
 * the seed CNN on tensors.
 */
export function cases(): Case[] {
  const list: Case[] = [
    { name: 'MLP, tensors, shuffle: true', make: mlp, data: mlpData, batchSize: MLP_BATCH, ...tensorsPath(true) },
    { name: 'MLP, tensors, shuffle: false', make: mlp, data: mlpData, batchSize: MLP_BATCH, ...tensorsPath(false) },
    {
      name: 'MLP, tensors + validationData tensors',
      make: mlp,
      data: mlpData,
      batchSize: MLP_BATCH,
      tfjs: (a, d, batchSize) =>
        a.fit(d.xs, d.ys, { epochs: 1, batchSize, shuffle: true, validationData: [d.vx, d.vy], verbose: SILENT }),
      rxfit: (b, d, batchSize) =>
        lastValueFrom(fit(b, { xs: d.xs, ys: d.ys }, { epochs: 1, batchSize, validationData: { xs: d.vx, ys: d.vy } })),
    },
    {
      // The baseline feeds tfjs the same batches through fitDataset, the tfjs way to train on a stream.
      name: 'MLP, BatchSource (vs fitDataset over the same batches)',
      make: mlp,
      data: mlpData,
      batchSize: MLP_BATCH,
      tfjs: (a, d, batchSize) => {
        const source = batchesOf(d.xs, d.ys, batchSize);
        const dataset = tf.data.generator(() => source.batches(0) as never);
        return a.fitDataset(dataset, { epochs: 1, batchesPerEpoch: source.batchesPerEpoch, verbose: SILENT });
      },
      rxfit: (b, d, batchSize) => lastValueFrom(fit(b, batchesOf(d.xs, d.ys, batchSize), { epochs: 1 })),
    },
    {
      name: 'MLP, tf.data.Dataset (vs fitDataset)',
      make: mlp,
      data: mlpData,
      batchSize: MLP_BATCH,
      tfjs: (a, d) => a.fitDataset(datasetOf(d.batches), { epochs: 1, verbose: SILENT }),
      rxfit: (b, d) => lastValueFrom(fit(b, datasetOf(d.batches), { epochs: 1 })),
    },
  ];
  if (process.env['BENCH_CNN'] !== '0') {
    list.unshift({
      name: 'seed CNN 64x64x3, tensors, shuffle: true (10 steps)',
      make: () => seedCnn(),
      data: () =>
        tf.tidy(() => ({
          xs: tf.randomUniform([320, 64, 64, 3]),
          ys: tf.randomUniform([320, 1]).round(),
          vx: tf.zeros([1, 64, 64, 3]),
          vy: tf.zeros([1, 1]),
          batches: [],
        })),
      batchSize: 32,
      ...tensorsPath(true),
    });
  }
  return list;
}

interface PathResult {
  readonly name: string;
  readonly tfjs: number;
  readonly rxfit: number;
  readonly ratio: number;
}

/** The child: every path on a backend started with `threads` wasm threads. */
async function child(threads: number, rounds: number): Promise<{ backend: string; threads: number; paths: PathResult[] }> {
  const backend = await useBestBackend({ threads });
  const paths: PathResult[] = [];
  for (const c of cases()) paths.push({ name: c.name, ...(await compare(c, rounds)) });
  return { backend: backend.name, threads: backend.threads ?? 1, paths };
}

/** Runs every path and prints one line each. */
export async function main(): Promise<void> {
  const rounds = envInt('BENCH_ROUNDS', 31);
  const threads = envInt('BENCH_THREADS', 1);
  const r = await runSelfAsChild<Awaited<ReturnType<typeof child>>>(import.meta.url, [String(threads), String(rounds)]);
  console.log(
    `fit overhead: rxfit fit vs tfjs, backend ${r.backend} (${r.threads} thread(s)), ${rounds} rounds of one epoch each, alternated (goal ≤ 1.02)`,
  );
  for (const p of r.paths) {
    console.log(
      `  ${p.name}: tfjs ${p.tfjs.toFixed(0)} ms, rxfit ${p.rxfit.toFixed(0)} ms, ratio rxfit/tfjs ${p.ratio.toFixed(3)} (median of the rounds' ratios)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--child') console.log(JSON.stringify(await child(Number(process.argv[3]), Number(process.argv[4]))));
  else await main();
}
