/**
 * Training speed of the seed CNN on every backend present, measured side by side in one run:
 * the one `useBestBackend` picks, then each other backend that loads (`webgpu` on Dawn, the
 * native packages, wasm), and the pure-JS `cpu` backend; plus a `tf.profile` breakdown of one
 * step of the chosen backend.
 *
 *   node --conditions=@rxfit/source --import tsx bench/backend-speed.ts
 *   npm run bench -- 'backend speed'       # the same, through the bench runner
 *
 * Env: BENCH_STEPS (measured steps, default 10), BENCH_WARMUP (default 3),
 * BENCH_CPU_STEPS (cpu steps, default 1; 0 skips cpu, which takes 60-90 s per step),
 * BENCH_BACKENDS (comma-separated backend names to measure besides the chosen one; default:
 * every one that loads, except `webgpu` on a software adapter, ~14 s per step on SwiftShader:
 * name it to measure it anyway).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, useBestBackend, type BackendName } from '@rxfit/backend';
import { envInt, seedBatch, seedCnn } from './models.js';

const BATCH = 32;

/** One backend measured. */
export interface BackendSpeedRow {
  readonly backend: BackendName;
  /** For `webgpu`: the adapter (`nvidia ampere (hardware, ...)`). */
  readonly device?: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Result of {@link main}, for a root bench runner. */
export interface BackendSpeedResult {
  readonly backend: string;
  readonly msPerStep: number;
  readonly cpuMsPerStep: number | null;
  readonly ratio: number | null;
  /** Every backend measured, the chosen one first, cpu last. */
  readonly rows: readonly BackendSpeedRow[];
  /** Backends not measured, with the reason. */
  readonly unavailable: readonly { readonly backend: BackendName; readonly reason: string }[];
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
  const steps = envInt('BENCH_STEPS', 10, 0);
  const warmup = envInt('BENCH_WARMUP', 3, 0);
  const cpuSteps = envInt('BENCH_CPU_STEPS', 1, 0);
  const named = envNames('BENCH_BACKENDS');
  const info = await useBestBackend();
  log(
    `backend-speed: seed CNN 64x64x3, batch ${BATCH}, adam + binaryCrossentropy, model.trainOnBatch`,
  );
  log(
    `chosen backend: ${info.name}${info.adapter ? ` on ${info.adapter.label}` : ''} (${info.reason}; simd=${String(info.simd ?? '-')}; patched ${info.kernelsPatched.length} kernels)`,
  );
  for (const s of info.skipped) log(`  skipped ${s.name}: ${s.reason}`);

  const rows: BackendSpeedRow[] = [];
  const unavailable: { backend: BackendName; reason: string }[] = [];
  const measure = async (
    backend: BackendName,
    device: string | undefined,
    w: number,
    n: number,
  ) => {
    const t = await timeSteps(w, n);
    rows.push({ backend, ...(device ? { device } : {}), median: t.median, min: t.min, max: t.max });
    log(
      `${backend}${device ? ` on ${device}` : ''}: median ${t.median.toFixed(1)} ms/step over ${n} steps after ${w} warmup (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`,
    );
    return t;
  };

  const best = await measure(info.name, info.adapter?.label, warmup, steps);
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

  // The others, side by side. Both native packages register 'tensorflow': one per process.
  let native = info.name === 'tensorflow-gpu' || info.name === 'tensorflow';
  for (const name of BACKEND_NAMES) {
    if (name === info.name || name === 'cpu') continue;
    if (named && !named.includes(name)) continue;
    if (native && (name === 'tensorflow-gpu' || name === 'tensorflow')) {
      unavailable.push({ backend: name, reason: 'one native package per process' });
      continue;
    }
    try {
      const other = await useBestBackend({ env: { RXFIT_BACKEND: name } });
      if (other.adapter?.software && !named?.includes(name)) {
        unavailable.push({
          backend: name,
          reason: `software adapter ${other.adapter.label}: BENCH_BACKENDS=${name} measures it`,
        });
        log(
          `${name}: not measured, software adapter (${other.adapter.label}); BENCH_BACKENDS=${name} measures it`,
        );
        continue;
      }
      native ||= name === 'tensorflow-gpu' || name === 'tensorflow';
      await measure(name, other.adapter?.label, warmup, steps);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      unavailable.push({ backend: name, reason });
      log(`${name}: not available (${reason})`);
    }
  }

  let cpuMs: number | null = null;
  if (cpuSteps > 0 && info.tfBackend !== 'cpu') {
    await tf.setBackend('cpu');
    log(`cpu: running ${cpuSteps} step(s) with no warmup; this takes 60-90 s per step...`);
    cpuMs = (await measure('cpu', undefined, 0, cpuSteps)).median;
  } else {
    log(
      cpuSteps > 0 ? 'cpu: the chosen backend is cpu already' : 'cpu: skipped (BENCH_CPU_STEPS=0)',
    );
  }
  await useBestBackend();
  const ratio = cpuMs == null ? null : cpuMs / best.median;
  if (ratio != null) log(`ratio cpu / ${info.name}: ${ratio.toFixed(0)}x`);
  log('ms/step, side by side (median):');
  for (const r of rows) {
    log(
      `  ${r.backend.padEnd(15)} ${r.median.toFixed(1).padStart(10)}  ${(best.median / r.median).toPrecision(2)}x the chosen one's speed${r.device ? `  ${r.device}` : ''}`,
    );
  }
  return {
    backend: info.name,
    msPerStep: best.median,
    cpuMsPerStep: cpuMs,
    ratio,
    rows,
    unavailable,
    profile,
  };
}

/** Step times of the seed CNN on the current backend, and process CPU time per step (all threads). */
export async function timeSteps(
  warmup: number,
  steps: number,
): Promise<{ median: number; min: number; max: number; cpuMsPerStep: number }> {
  const model = seedCnn();
  const { xs, ys } = seedBatch(BATCH);
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

/** One profiled `trainOnBatch` of the seed CNN (after a warm-up step): time and calls per kernel, slowest first. */
export async function profileStep(): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const model = seedCnn();
  const { xs, ys } = seedBatch(BATCH);
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

function envNames(name: string): string[] | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const names = raw.split(',').map((n) => n.trim());
  for (const n of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(n)) {
      throw new RangeError(
        `${name}: ${JSON.stringify(n)} is not a backend; use ${BACKEND_NAMES.join(', ')}`,
      );
    }
  }
  return names;
}


if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
