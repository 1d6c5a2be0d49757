/**
 * Training speed of the seed CNN on the backend `useBestBackend` picks, against the pure-JS
 * `cpu` backend, measured side by side in one run, plus a `tf.profile` breakdown of one step.
 *
 *   node --conditions=@rxfit/source --import tsx bench/backend-speed.ts
 *
 * Env: BENCH_STEPS (measured steps, default 10), BENCH_WARMUP (default 3),
 * BENCH_CPU_STEPS (cpu steps, default 1; 0 skips cpu, which takes 60-90 s per step).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from '@rxfit/backend';
import { seedCnn } from './models.js';

const BATCH = 32;

/** Result of {@link main}, for a root bench runner. */
export interface BackendSpeedResult {
  readonly backend: string;
  readonly msPerStep: number;
  readonly cpuMsPerStep: number | null;
  readonly ratio: number | null;
  readonly profile: readonly {
    readonly kernel: string;
    readonly ms: number;
    readonly calls: number;
  }[];
}

/**
 * Runs the benchmark and prints a report.
 *
 * @param log - Where the report lines go.
 * @returns The measured numbers.
 */
export async function main(log: (line: string) => void = console.log): Promise<BackendSpeedResult> {
  const steps = envInt('BENCH_STEPS', 10);
  const warmup = envInt('BENCH_WARMUP', 3);
  const cpuSteps = envInt('BENCH_CPU_STEPS', 1);
  const info = await useBestBackend();
  log(
    `backend-speed: seed CNN 64x64x3, batch ${BATCH}, adam + binaryCrossentropy, model.trainOnBatch`,
  );
  log(
    `chosen backend: ${info.name} (${info.reason}; simd=${String(info.simd ?? '-')}; patched ${info.kernelsPatched.length} kernels)`,
  );

  const best = await timeSteps(warmup, steps);
  log(
    `${info.name}: median ${best.median.toFixed(1)} ms/step over ${steps} steps after ${warmup} warmup (min ${best.min.toFixed(1)}, max ${best.max.toFixed(1)})`,
  );
  const heap = wasmHeapBytes();
  if (heap != null) log(`wasm heap: ${(heap / 2 ** 20).toFixed(0)} MiB (it only grows)`);

  const profile = await profileStep();
  log(
    `tf.profile of one ${info.name} step (kernel time; composed kernels also count the ops inside them):`,
  );
  for (const p of profile.slice(0, 15))
    log(
      `  ${p.kernel.padEnd(36)} ${p.ms.toFixed(1).padStart(8)} ms  ${String(p.calls).padStart(4)} calls`,
    );

  let cpuMs: number | null = null;
  if (cpuSteps > 0 && info.tfBackend !== 'cpu') {
    await tf.setBackend('cpu');
    log(`cpu: running ${cpuSteps} step(s) with no warmup; this takes 60-90 s per step...`);
    const cpu = await timeSteps(0, cpuSteps);
    cpuMs = cpu.median;
    log(`cpu: median ${cpu.median.toFixed(0)} ms/step over ${cpuSteps} step(s)`);
    await tf.setBackend(info.tfBackend);
  } else {
    log(
      cpuSteps > 0 ? 'cpu: the chosen backend is cpu already' : 'cpu: skipped (BENCH_CPU_STEPS=0)',
    );
  }
  const ratio = cpuMs == null ? null : cpuMs / best.median;
  if (ratio != null) log(`ratio cpu / ${info.name}: ${ratio.toFixed(0)}x`);
  return { backend: info.name, msPerStep: best.median, cpuMsPerStep: cpuMs, ratio, profile };
}

function batch(): { xs: tf.Tensor; ys: tf.Tensor } {
  return {
    xs: tf.randomUniform([BATCH, 64, 64, 3], 0, 1, 'float32', 1),
    ys: tf.cast(tf.greater(tf.randomUniform([BATCH, 1], 0, 1, 'float32', 2), 0.5), 'float32'),
  };
}

/** Step times of the seed CNN on the current backend, and process CPU time per step (all threads). */
export async function timeSteps(
  warmup: number,
  steps: number,
): Promise<{ median: number; min: number; max: number; cpuMsPerStep: number }> {
  const model = seedCnn();
  const { xs, ys } = batch();
  try {
    for (let i = 0; i < warmup; i++) await model.trainOnBatch(xs, ys);
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    return {
      median: times[Math.floor(times.length / 2)] ?? NaN,
      min: times[0] ?? NaN,
      max: times[times.length - 1] ?? NaN,
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps,
    };
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

async function profileStep(): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const model = seedCnn();
  const { xs, ys } = batch();
  try {
    await model.trainOnBatch(xs, ys);
    const prof = await tf.profile(async () => {
      await model.trainOnBatch(xs, ys);
    });
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of prof.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls += 1;
      byName.set(k.name, e);
    }
    return [...byName.entries()]
      .map(([kernel, v]) => ({ kernel, ...v }))
      .sort((a, b) => b.ms - a.ms);
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  // Not in the public typings: the emscripten module of the wasm backend.
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap?.length ?? null;
}

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw == null || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${name}=${JSON.stringify(raw)} must be a non-negative integer`);
  return n;
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
