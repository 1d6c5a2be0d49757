/**
 * The opt-in wasm threads: the seed CNN's step time with 1 and with 2 threads, each in its own
 * process (threads are chosen when the backend starts), alternated; prints the medians and their
 * ratio. The default thread count (one per core) rests on this; on 2 shared cores the gain
 * depends on the load.
 *
 *   node --conditions=@rxfit/source --import tsx bench/wasm-threads.ts
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_STEPS (default 15).
 */
import { pathToFileURL } from 'node:url';
import { useBestBackend } from '@rxfit/backend';
import { timeSteps } from './backend-speed.js';
import { envInt, median, runSelfAsChild } from './models.js';

interface ChildResult {
  readonly threads: number;
  readonly median: number;
  readonly cpuMsPerStep: number;
}

async function child(threads: number, steps: number): Promise<ChildResult> {
  const info = await useBestBackend({ prefer: 'wasm', env: {}, threads });
  const timed = await timeSteps(3, steps);
  return { threads: info.threads ?? 1, median: timed.median, cpuMsPerStep: timed.cpuMsPerStep };
}

function inChild(threads: number, steps: number): Promise<ChildResult> {
  return runSelfAsChild<ChildResult>(import.meta.url, [String(threads), String(steps)]);
}

/** Runs the comparison and prints it. */
export async function main(): Promise<void> {
  const rounds = envInt('BENCH_ROUNDS', 3);
  const steps = envInt('BENCH_STEPS', 15);
  const results = new Map<number, ChildResult[]>([
    [1, []],
    [2, []],
  ]);
  for (let round = 0; round < rounds; round++) {
    for (const threads of [1, 2]) results.get(threads)!.push(await inChild(threads, steps));
  }
  const one = median(results.get(1)!.map((r) => r.median));
  const two = median(results.get(2)!.map((r) => r.median));
  const cpu = (t: number) => median(results.get(t)!.map((r) => r.cpuMsPerStep));
  console.log(
    `wasm threads: seed CNN, batch 32, ${steps} steps per process, ${rounds} rounds alternated`,
  );
  console.log(`  1 thread: ${one.toFixed(0)} ms/step (CPU ${cpu(1).toFixed(0)} ms/step)`);
  console.log(
    `  2 threads (got ${results.get(2)![0]!.threads}): ${two.toFixed(0)} ms/step (CPU ${cpu(2).toFixed(0)} ms/step), ratio 2/1 ${(two / one).toFixed(3)}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--child') {
    console.log(JSON.stringify(await child(Number(process.argv[3]), Number(process.argv[4]))));
  } else {
    await main();
  }
}
