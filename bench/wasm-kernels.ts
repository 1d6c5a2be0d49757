/**
 * The wasm engine against its own limit: each training kernel of the seed CNN (batch 32) as a
 * percentage of the `tf.matMul` 1024³ GFLOPS peak measured in the same process, the rest of the
 * step kernel by kernel (`tf.profile`), and the step time against its limit (step FLOPs ÷ peak);
 * at 1 thread and at N threads, with the native kernels ("after") and with the compositions of
 * stock kernels only ("before", `registerWasmTrainingKernels({ native: false })`, the 0.1
 * kernels). Threads are fixed per process, so every configuration runs in its own child
 * process; rounds alternate them, and each number is the best round (every ratio is taken
 * within one process, against the peak that process measured).
 *
 *   node --conditions=@rxfit/source --import tsx bench/wasm-kernels.ts
 *
 * Env: BENCH_THREADS (N, default 2), BENCH_ROUNDS (default 2), BENCH_STEPS (default 10),
 * BENCH_RUNS (timed runs per kernel, the minimum is kept; default 7).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, useBestBackend } from '@rxfit/backend';
import { timeSteps } from './backend-speed.js';
import { seedCnn } from './models.js';

const BATCH = 32;
const VARIANTS = ['before', 'after'] as const;
type Variant = (typeof VARIANTS)[number];

interface KernelCase {
  readonly name: string;
  readonly kernel: string;
  readonly flops: number;
  readonly inputs: () => Record<string, tf.Tensor>;
  readonly attrs: Record<string, unknown>;
}

interface ChildResult {
  readonly threads: number;
  readonly variant: Variant;
  readonly peakGflops: number;
  readonly kernels: readonly {
    readonly name: string;
    readonly ms: number;
    readonly flops: number;
  }[];
  readonly stepMin: number;
  readonly stepMedian: number;
  readonly stepFlops: number;
  readonly profile: readonly {
    readonly kernel: string;
    readonly ms: number;
    readonly calls: number;
  }[];
}

const conv = (pad = 'valid') => ({ strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
const pool = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };

/** The seed CNN's training kernels at batch 32, in step order, with their FLOPs. */
function seedKernels(): KernelCase[] {
  const r = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const convFlops = (dy: number[], k: number[]) =>
    2 * dy.reduce((a, b) => a * b) * k[0]! * k[1]! * k[2]!;
  const c1 = { x: [BATCH, 64, 64, 3], f: [3, 3, 3, 32], y: [BATCH, 62, 62, 32] };
  const c2 = { x: [BATCH, 31, 31, 32], f: [3, 3, 32, 32], y: [BATCH, 29, 29, 32] };
  const dense = 2 * BATCH * 6272 * 128;
  return [
    {
      name: 'conv1 forward (3→32, 64x64)',
      kernel: 'Conv2D',
      flops: convFlops(c1.y, c1.f),
      inputs: () => ({ x: r(c1.x, 1), filter: r(c1.f, 2) }),
      attrs: conv(),
    },
    {
      name: 'conv1 Conv2DBackpropFilter',
      kernel: 'Conv2DBackpropFilter',
      flops: convFlops(c1.y, c1.f),
      inputs: () => ({ x: r(c1.x, 1), dy: r(c1.y, 3) }),
      attrs: { ...conv(), filterShape: c1.f },
    },
    {
      name: 'conv2 forward (32→32, 31x31)',
      kernel: 'Conv2D',
      flops: convFlops(c2.y, c2.f),
      inputs: () => ({ x: r(c2.x, 4), filter: r(c2.f, 5) }),
      attrs: conv(),
    },
    {
      name: 'conv2 Conv2DBackpropFilter',
      kernel: 'Conv2DBackpropFilter',
      flops: convFlops(c2.y, c2.f),
      inputs: () => ({ x: r(c2.x, 4), dy: r(c2.y, 6) }),
      attrs: { ...conv(), filterShape: c2.f },
    },
    {
      name: 'conv2 Conv2DBackpropInput',
      kernel: 'Conv2DBackpropInput',
      flops: convFlops(c2.y, c2.f),
      inputs: () => ({ dy: r(c2.y, 6), filter: r(c2.f, 5) }),
      attrs: { ...conv(), inputShape: c2.x },
    },
    {
      name: 'dense1 forward (6272→128)',
      kernel: 'BatchMatMul',
      flops: dense,
      inputs: () => ({ a: r([1, BATCH, 6272], 7), b: r([1, 6272, 128], 8) }),
      attrs: { transposeA: false, transposeB: false },
    },
    {
      name: 'dense1 dW (transposeA)',
      kernel: 'BatchMatMul',
      flops: dense,
      inputs: () => ({ a: r([1, BATCH, 6272], 7), b: r([1, BATCH, 128], 9) }),
      attrs: { transposeA: true, transposeB: false },
    },
    {
      name: 'dense1 dx (transposeB)',
      kernel: 'BatchMatMul',
      flops: dense,
      inputs: () => ({ a: r([1, BATCH, 128], 9), b: r([1, 6272, 128], 8) }),
      attrs: { transposeA: false, transposeB: true },
    },
    {
      name: 'MaxPoolGrad 1 (62x62x32)',
      kernel: 'MaxPoolGrad',
      flops: 0,
      inputs: () => maxPoolInputs([BATCH, 62, 62, 32], 10),
      attrs: pool,
    },
    {
      name: 'MaxPoolGrad 2 (29x29x32)',
      kernel: 'MaxPoolGrad',
      flops: 0,
      inputs: () => maxPoolInputs([BATCH, 29, 29, 32], 11),
      attrs: pool,
    },
  ];
}

function maxPoolInputs(shape: number[], seed: number): Record<string, tf.Tensor> {
  const input = tf.randomNormal<tf.Rank.R4>(
    shape as [number, number, number, number],
    0,
    1,
    'float32',
    seed,
  );
  const output = tf.maxPool(input, 2, 2, 'valid');
  return { dy: tf.randomNormal(output.shape, 0, 1, 'float32', seed + 1), input, output };
}

/** The least wall time of `runs` calls (after one warm-up), with the output read back. */
function minMs(fn: () => tf.Tensor, runs: number): number {
  let best = Infinity;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const out = fn();
    out.dataSync();
    const ms = performance.now() - t0;
    out.dispose();
    if (i > 0) best = Math.min(best, ms);
  }
  return best;
}

/**
 * FLOPs of one training step of a model of conv2d and dense layers: forward, filter gradient
 * and, except for the first layer (no gradient flows to the data), input gradient.
 */
function stepFlops(model: tf.LayersModel): number {
  let total = 0;
  let first = true;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const perPass = (k: number) => 2 * BATCH * out.slice(1).reduce((a, b) => a * b) * k;
    const kernel = layer.getWeights()[0];
    if (kernel == null || kernel.rank < 2) continue;
    // conv2d kernel [kh, kw, ci, co]: kh·kw·ci MACs per output; dense [in, out]: in.
    const macs = kernel.shape.slice(0, -1).reduce((a, b) => a * b);
    total += perPass(macs) * (first ? 2 : 3);
    first = false;
  }
  return total;
}

async function child(threads: number, variant: Variant): Promise<ChildResult> {
  const info = await useBestBackend({ prefer: 'wasm', env: {}, threads });
  if (info.name !== 'wasm') throw new Error(`wasm-kernels: got ${info.name}, not wasm`);
  if (variant === 'before') registerWasmTrainingKernels({ native: false });
  const runs = envInt('BENCH_RUNS', 7);
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  const peakMs = minMs(() => tf.matMul(a, b), runs);
  tf.dispose([a, b]);
  const kernels = seedKernels().map((k) => {
    const inputs = k.inputs();
    const ms = minMs(
      () => tf.engine().runKernel<tf.Tensor>(k.kernel, inputs, k.attrs as tf.NamedAttrMap),
      runs,
    );
    tf.dispose(Object.values(inputs));
    return { name: k.name, ms, flops: k.flops };
  });
  const steps = await timeSteps(3, envInt('BENCH_STEPS', 10));
  const model = seedCnn();
  const xs = tf.randomUniform([BATCH, 64, 64, 3], 0, 1, 'float32', 1);
  const ys = tf.cast(tf.greater(tf.randomUniform([BATCH, 1], 0, 1, 'float32', 2), 0.5), 'float32');
  await model.trainOnBatch(xs, ys);
  const prof = await tf.profile(async () => {
    await model.trainOnBatch(xs, ys);
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byName.set(k.name, e);
  }
  const flops = stepFlops(model);
  tf.dispose([xs, ys]);
  model.dispose();
  return {
    threads: info.threads ?? 1,
    variant,
    peakGflops: (2 * 1024 ** 3) / peakMs / 1e6,
    kernels,
    stepMin: steps.min,
    stepMedian: steps.median,
    stepFlops: flops,
    profile: [...byName].map(([kernel, v]) => ({ kernel, ...v })).sort((x, y) => y.ms - x.ms),
  };
}

async function inChild(threads: number, variant: Variant): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--conditions=@rxfit/source',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      String(threads),
      variant,
    ],
    { maxBuffer: 16 * 2 ** 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const pct = (flops: number, ms: number, peak: number) => (100 * flops) / (ms * 1e6) / peak;

/** Of several runs of one configuration, the one whose step was closest to its limit. */
function best(results: readonly ChildResult[]): ChildResult {
  const ratio = (r: ChildResult) => r.stepMin / (r.stepFlops / r.peakGflops / 1e6);
  return [...results].sort((x, y) => ratio(x) - ratio(y))[0]!;
}

/** Runs the children and prints the tables; returns the best run of each configuration. */
export async function main(log: (line: string) => void = console.log): Promise<ChildResult[]> {
  const n = envInt('BENCH_THREADS', 2);
  const rounds = envInt('BENCH_ROUNDS', 2);
  const threadCounts = n === 1 ? [1] : [1, n];
  const all: ChildResult[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const threads of threadCounts) {
      for (const variant of VARIANTS) all.push(await inChild(threads, variant));
    }
  }
  const out: ChildResult[] = [];
  log(
    `wasm-kernels: seed CNN at batch ${BATCH}; best of ${rounds} round(s), each % against the matMul peak of its own process`,
  );
  for (const threads of threadCounts) {
    const [before, after] = VARIANTS.map((v) =>
      best(all.filter((r) => r.threads === threads && r.variant === v)),
    ) as [ChildResult, ChildResult];
    out.push(before, after);
    log(
      `\n${threads} thread(s) (got ${after.threads}): matMul 1024³ peak ${before.peakGflops.toFixed(1)} GFLOPS (before run), ${after.peakGflops.toFixed(1)} (after run)`,
    );
    log(
      `  ${'kernel'.padEnd(30)} ${'before ms'.padStart(10)} ${'% peak'.padStart(7)} ${'after ms'.padStart(10)} ${'% peak'.padStart(7)}`,
    );
    before.kernels.forEach((k, i) => {
      const a = after.kernels[i]!;
      const p = (r: ChildResult, ms: number) =>
        k.flops ? `${pct(k.flops, ms, r.peakGflops).toFixed(0)}%` : '-';
      log(
        `  ${k.name.padEnd(30)} ${k.ms.toFixed(1).padStart(10)} ${p(before, k.ms).padStart(7)} ${a.ms.toFixed(1).padStart(10)} ${p(after, a.ms).padStart(7)}`,
      );
    });
    for (const r of [before, after]) {
      const limit = r.stepFlops / r.peakGflops / 1e6;
      log(
        `  step ${r.variant.padEnd(6)}: min ${r.stepMin.toFixed(1)} ms, median ${r.stepMedian.toFixed(1)} ms; limit ${(r.stepFlops / 1e9).toFixed(2)} GFLOP ÷ peak = ${limit.toFixed(1)} ms; min/limit ${(r.stepMin / limit).toFixed(2)}x`,
      );
    }
    log(`  tf.profile of one step, after (composed kernels also count the kernels inside them):`);
    for (const p of after.profile.slice(0, 16)) {
      const b = before.profile.find((q) => q.kernel === p.kernel);
      log(
        `    ${p.kernel.padEnd(24)} ${p.ms.toFixed(1).padStart(7)} ms ${String(p.calls).padStart(4)} calls   (before: ${b ? `${b.ms.toFixed(1)} ms, ${b.calls} calls` : '-'})`,
      );
    }
  }
  return out;
}

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw == null || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`${name}=${JSON.stringify(raw)} must be an integer ≥ 1`);
  return v;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--child') {
    const variant = process.argv[4] === 'before' ? 'before' : 'after';
    console.log(JSON.stringify(await child(Number(process.argv[3]), variant)));
  } else {
    await main();
  }
}
