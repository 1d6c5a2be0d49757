/**
 * `npm run bench`: every benchmark, one after the other in this process. Each prints a ratio
 * against a baseline measured side by side in the same run; absolute times here are noisy.
 * `BENCH_CPU_STEPS=0` skips the (minute-long) cpu-backend step of the backend benchmark.
 */
import { main as backendSpeed } from './backend-speed.js';
import { main as fitOverhead } from './fit-overhead.js';
import { main as imageFolderThroughput } from './image-folder-throughput.js';
import { main as dataWait } from './data-wait.js';
import { main as sinkOverhead } from './sink-overhead.js';
import { main as eventLogOverhead } from './event-log-overhead.js';
import { main as wasmThreads } from './wasm-threads.js';
import { main as sweepOverhead } from './sweep-overhead.js';
import { main as wasmKernels } from './wasm-kernels.js';

const benches: [string, () => Promise<unknown>][] = [
  ['backend speed: seed CNN on every backend present (webgpu included) vs cpu', () => backendSpeed()],
  ['fit overhead: rxfit fit vs tfjs model.fit', () => fitOverhead()],
  ['image-folder throughput', () => imageFolderThroughput()],
  ['data wait: the seed CNN fed by imageFolder', () => dataWait()],
  ['sink overhead', () => sinkOverhead()],
  ['event log overhead', () => eventLogOverhead()],
  ['wasm threads: 2 vs 1 (the default is one per core)', () => wasmThreads()],
  ['sweep overhead: trials through each executor vs their fits run directly', () => sweepOverhead()],
  ['wasm kernels: % of the matMul peak, before/after, 1 and N threads', () => wasmKernels()],
];
const only = process.argv[2];
for (const [name, run] of benches) {
  if (only && !name.startsWith(only)) continue;
  console.log(`\n=== ${name}`);
  await run();
}
