/**
 * The wasm engine against its own limit: each training kernel of the seed CNN (batch 32) as a
 * percentage of the `tf.matMul` 1024³ GFLOPS peak measured in the same process, the rest of the
 * step kernel by kernel (`tf.profile`), and the step time against its limit (step FLOPs ÷ peak);
 * at 1 thread and at N threads, with the native kernels ("after") and with the compositions of
 * stock kernels only ("before", `registerWasmTrainingKernels({ native: false })`, the 0.1
 * kernels). Threads are fixed per process, so every configuration runs in its own child
 * process; rounds alternate them. Every ratio is taken within one process, against matMul peak
 * runs interleaved with the timed runs, and the median over the rounds is printed.
 *
 *   node --conditions=@rxfit/source --import tsx bench/wasm-kernels.ts
 *
 * Env: BENCH_THREADS (N, default 2), BENCH_ROUNDS (default 2), BENCH_STEPS (default 10),
 * BENCH_RUNS (timed runs per kernel, the minimum is kept; default 7).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { adam, registerWasmTrainingKernels, useBestBackend } from '@rxfit/backend';
import { profileStep } from './backend-speed.js';
import { envInt, median, runSelfAsChild, seedBatch, seedCnn } from './models.js';

const BATCH = 32;
const EPOCH_BATCHES = 10;
const VARIANTS = ['before', 'after'] as const;
type Variant = (typeof VARIANTS)[number];

interface KernelCase {
  readonly name: string;
  readonly flops: number;
  /** Makes the inputs; returns the timed call and what frees them. */
  readonly setup: () => { readonly run: () => tf.Tensor; readonly dispose: () => void };
}

/** A case that runs one kernel on fixed inputs. */
function kernelCase(
  name: string,
  kernel: string,
  flops: number,
  inputs: () => Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): KernelCase {
  return {
    name,
    flops,
    setup: () => {
      const made = inputs();
      return {
        run: () => tf.engine().runKernel<tf.Tensor>(kernel, made, attrs as tf.NamedAttrMap),
        dispose: () => tf.dispose(Object.values(made)),
      };
    },
  };
}

/** The seed CNN's variables: conv1, conv2, dense1, dense2 kernels and biases. */
const SEED_VARIABLES = [
  [3, 3, 3, 32],
  [32],
  [3, 3, 32, 32],
  [32],
  [6272, 128],
  [128],
  [128, 1],
  [1],
];

/**
 * One Adam update of the seed CNN's 8 variables by `adam()`: the fused native pass "after",
 * tfjs' own ops "before" (`native: false` turns the fused path off).
 */
const adamCase: KernelCase = {
  name: 'Adam update (8 variables)',
  flops: 0,
  setup: () => {
    const variables = SEED_VARIABLES.map((shape, i) =>
      tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 0.1, 'float32', 20 + i))),
    );
    const grads = variables.map((v, i) => ({
      name: v.name,
      tensor: tf.randomNormal(v.shape, 0, 0.01, 'float32', 30 + i),
    }));
    const optimizer = adam();
    return {
      run: () => {
        optimizer.applyGradients(grads);
        return tf.scalar(0);
      },
      dispose: () => {
        tf.dispose([...variables, ...grads.map((g) => g.tensor)]);
        optimizer.dispose();
      },
    };
  },
};

interface ChildResult {
  readonly threads: number;
  readonly variant: Variant;
  /** The best matMul peak of the process. */
  readonly peakGflops: number;
  /** Each kernel's least time, and the matMul peak measured interleaved with it. */
  readonly kernels: readonly {
    readonly name: string;
    readonly ms: number;
    readonly flops: number;
    readonly peakGflops: number;
  }[];
  /** The matMul peak measured interleaved with the steps. */
  readonly stepPeakGflops: number;
  readonly stepMin: number;
  readonly stepMedian: number;
  readonly stepFlops: number;
  /** `model.fit` of the seed CNN, one epoch of {@link EPOCH_BATCHES} batches, after one warm-up epoch. */
  readonly epochMs: number;
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
    2 * tf.util.sizeFromShape(dy) * k[0]! * k[1]! * k[2]!;
  const c1 = { x: [BATCH, 64, 64, 3], f: [3, 3, 3, 32], y: [BATCH, 62, 62, 32] };
  const c2 = { x: [BATCH, 31, 31, 32], f: [3, 3, 32, 32], y: [BATCH, 29, 29, 32] };
  const dense = 2 * BATCH * 6272 * 128;
  /** A conv layer's forward pass and filter gradient, and its input gradient when it has one. */
  const convCases = (
    layer: string,
    shape: string,
    c: typeof c1,
    seeds: { x: number; f: number; dy: number },
    inputGradient: boolean,
  ): KernelCase[] => {
    const flops = convFlops(c.y, c.f);
    const cases = [
      kernelCase(`${layer} forward ${shape}`, 'Conv2D', flops, () => ({ x: r(c.x, seeds.x), filter: r(c.f, seeds.f) }), conv()),
      kernelCase(`${layer} Conv2DBackpropFilter`, 'Conv2DBackpropFilter', flops, () => ({ x: r(c.x, seeds.x), dy: r(c.y, seeds.dy) }), {
        ...conv(),
        filterShape: c.f,
      }),
    ];
    if (inputGradient) {
      cases.push(
        kernelCase(`${layer} Conv2DBackpropInput`, 'Conv2DBackpropInput', flops, () => ({ dy: r(c.y, seeds.dy), filter: r(c.f, seeds.f) }), {
          ...conv(),
          inputShape: c.x,
        }),
      );
    }
    return cases;
  };
  return [
    ...convCases('conv1', '(3→32, 64x64)', c1, { x: 1, f: 2, dy: 3 }, false),
    ...convCases('conv2', '(32→32, 31x31)', c2, { x: 4, f: 5, dy: 6 }, true),
    kernelCase(
      'dense1 forward (6272→128)',
      'BatchMatMul',
      dense,
      () => ({ a: r([1, BATCH, 6272], 7), b: r([1, 6272, 128], 8) }),
      { transposeA: false, transposeB: false },
    ),
    kernelCase(
      'dense1 dW (transposeA)',
      'BatchMatMul',
      dense,
      () => ({ a: r([1, BATCH, 6272], 7), b: r([1, BATCH, 128], 9) }),
      { transposeA: true, transposeB: false },
    ),
    kernelCase(
      'dense1 dx (transposeB)',
      'BatchMatMul',
      dense,
      () => ({ a: r([1, BATCH, 128], 9), b: r([1, 6272, 128], 8) }),
      { transposeA: false, transposeB: true },
    ),
    kernelCase(
      'MaxPoolGrad 1 (62x62x32)',
      'MaxPoolGrad',
      0,
      () => maxPoolInputs([BATCH, 62, 62, 32], 10),
      pool,
    ),
    kernelCase(
      'MaxPoolGrad 2 (29x29x32)',
      'MaxPoolGrad',
      0,
      () => maxPoolInputs([BATCH, 29, 29, 32], 11),
      pool,
    ),
    adamCase,
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

/**
 * The least wall time of `runs` calls of `fn` (after one warm-up), and
 * the least time of the matMul peak run just before each of them: both minimums come from the
 * same moments of this process, so their ratio holds on a loaded machine.
 */
function interleaved(fn: () => tf.Tensor, runs: number, peak: () => tf.Tensor) {
  let best = Infinity;
  let bestPeak = Infinity;
  for (let i = 0; i <= runs; i++) {
    const p = timeOnce(peak);
    const ms = timeOnce(fn);
    if (i > 0) [best, bestPeak] = [Math.min(best, ms), Math.min(bestPeak, p)];
  }
  return { ms: best, peakGflops: gflops(PEAK_FLOPS, bestPeak) };
}

/**
 * Wall time of one call. wasm runs every kernel synchronously, so the result is ready when the
 * call returns; it is not copied out (`dataSync` of conv1's 16 MB output took longer than the
 * native kernel itself).
 */
function timeOnce(fn: () => tf.Tensor): number {
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

const PEAK_FLOPS = 2 * 1024 ** 3;
/** GFLOPS of `flops` done in `ms`. */
const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

/**
 * FLOPs of one training step of a model of conv2d and dense layers: forward, filter gradient
 * and, except for the first layer (no gradient flows to the data), input gradient.
 */
function stepFlops(model: tf.LayersModel): number {
  let total = 0;
  let first = true;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const perPass = (k: number) => 2 * BATCH * tf.util.sizeFromShape(out.slice(1)) * k;
    const kernel = layer.getWeights()[0];
    if (kernel == null || kernel.rank < 2) continue;
    // conv2d kernel [kh, kw, ci, co]: kh·kw·ci MACs per output; dense [in, out]: in.
    const macs = tf.util.sizeFromShape(kernel.shape.slice(0, -1));
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
  const peak = () => tf.matMul(a, b);
  const kernels = seedKernels().map((k) => {
    const { run, dispose } = k.setup();
    const timed = interleaved(run, runs, peak);
    dispose();
    return { name: k.name, flops: k.flops, ...timed };
  });
  const steps = await timeStepsInterleaved(envInt('BENCH_STEPS', 10), peak);
  tf.dispose([a, b]);
  const profile = await profileStep();
  const model = seedCnn();
  const flops = stepFlops(model);
  model.dispose();
  const epochMs = await timeEpoch();
  return {
    threads: info.threads ?? 1,
    variant,
    peakGflops: Math.max(steps.peakGflops, ...kernels.map((k) => k.peakGflops)),
    kernels,
    stepPeakGflops: steps.peakGflops,
    stepMin: steps.min,
    stepMedian: steps.median,
    stepFlops: flops,
    epochMs,
    profile,
  };
}

/**
 * The seed CNN's `trainOnBatch` time (least and median of `steps`, after 3 warm-up steps), each
 * step preceded by a matMul peak run, whose least time is returned as GFLOPS.
 */
async function timeStepsInterleaved(steps: number, peak: () => tf.Tensor) {
  const model = seedCnn();
  const { xs, ys } = seedBatch(BATCH);
  try {
    for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
    const times: number[] = [];
    let bestPeak = Infinity;
    for (let i = 0; i < steps; i++) {
      bestPeak = Math.min(bestPeak, timeOnce(peak));
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      times.push(performance.now() - t0);
    }
    return {
      min: Math.min(...times),
      median: median(times),
      peakGflops: gflops(PEAK_FLOPS, bestPeak),
    };
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

/** Wall time of one `model.fit` epoch of the seed CNN on random data, after a warm-up epoch. */
async function timeEpoch(): Promise<number> {
  const model = seedCnn();
  const n = EPOCH_BATCHES * BATCH;
  const { xs, ys } = seedBatch(n, 3);
  try {
    // verbose is a const enum of tfjs-layers that tfjs does not re-export (as in fit-overhead.ts).
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    const fit = () => model.fit(xs, ys, { epochs: 1, batchSize: BATCH, verbose: 0 });
    await fit();
    const t0 = performance.now();
    await fit();
    return performance.now() - t0;
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

function inChild(threads: number, variant: Variant): Promise<ChildResult> {
  return runSelfAsChild<ChildResult>(import.meta.url, [String(threads), variant]);
}

const pct = (flops: number, ms: number, peak: number) => (100 * gflops(flops, ms)) / peak;

/** A run's fastest step over its limit: the step's FLOPs at the matMul peak measured with it. */
const stepToLimit = (r: ChildResult): number => r.stepMin / (r.stepFlops / r.stepPeakGflops / 1e6);

/** Of several runs of one configuration, the one whose step was closest to its limit. */
function best(results: readonly ChildResult[]): ChildResult {
  return [...results].sort((x, y) => stepToLimit(x) - stepToLimit(y))[0]!;
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
    `wasm-kernels: seed CNN at batch ${BATCH}; ${rounds} round(s); every % is against the matMul 1024³ peak measured interleaved with it in the same process, median over the rounds`,
  );
  for (const threads of threadCounts) {
    const runsOf = (v: Variant) => all.filter((r) => r.threads === threads && r.variant === v);
    const [before, after] = VARIANTS.map((v) => best(runsOf(v))) as [ChildResult, ChildResult];
    out.push(before, after);
    const peaks = (v: Variant) => Math.max(...runsOf(v).map((r) => r.peakGflops)).toFixed(1);
    log(
      `\n${threads} thread(s) (got ${after.threads}): best matMul 1024³ peak ${peaks('before')} GFLOPS (before runs), ${peaks('after')} (after runs)`,
    );
    log(
      `  ${'kernel'.padEnd(30)} ${'before ms'.padStart(10)} ${'% peak'.padStart(7)} ${'after ms'.padStart(10)} ${'% peak'.padStart(7)}`,
    );
    before.kernels.forEach((k, i) => {
      // Least time over the rounds; the share of the peak is the median over the rounds of
      // each process's own (kernel, interleaved peak) ratio: the best ratio would favour the
      // round whose peak runs were the unluckiest.
      const cell = (v: Variant) => {
        const entries = runsOf(v).map((r) => r.kernels[i]!);
        const ms = Math.min(...entries.map((e) => e.ms));
        const share = median(entries.map((e) => pct(e.flops, e.ms, e.peakGflops)));
        return `${ms.toFixed(1).padStart(10)} ${(k.flops ? `${share.toFixed(0)}%` : '-').padStart(7)}`;
      };
      log(`  ${k.name.padEnd(30)} ${cell('before')} ${cell('after')}`);
    });
    for (const v of VARIANTS) {
      const runs = runsOf(v);
      const ratios = runs.map(stepToLimit);
      log(
        `  step ${v.padEnd(6)}: min ${Math.min(...runs.map((r) => r.stepMin)).toFixed(1)} ms, median ${median(runs.map((r) => r.stepMedian)).toFixed(1)} ms; limit ${(runs[0]!.stepFlops / 1e9).toFixed(2)} GFLOP ÷ the peak interleaved with the steps; min/limit per round ${ratios.map((x) => x.toFixed(2)).join(', ')}: median ${median(ratios).toFixed(2)}x`,
      );
    }
    const epoch = (v: Variant) => Math.min(...runsOf(v).map((r) => r.epochMs));
    log(
      `  model.fit epoch of ${EPOCH_BATCHES} batches (best round): before ${epoch('before').toFixed(0)} ms, after ${epoch('after').toFixed(0)} ms, ratio after/before ${(epoch('after') / epoch('before')).toFixed(2)}`,
    );
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


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--child') {
    const variant = process.argv[4] === 'before' ? 'before' : 'after';
    console.log(JSON.stringify(await child(Number(process.argv[3]), variant)));
  } else {
    await main();
  }
}
