/**
 * What `eventLog` costs the seed CNN: epochs (64x64x3, batch 32, 10 steps) with and without
 * the event log, alternated in one process; prints the median epoch-time ratio (goal ≤ 1.01)
 * and the operator's own time per event, measured around it.
 *
 *   node --conditions=@rxfit/source --import tsx bench/event-log-overhead.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { fit, type TrainingEvent } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { eventLog } from '@rxfit/event-log';
import { envInt, median, seedCnn } from './models.js';

/** Wraps an operator to add up the synchronous time its `next` (and what follows it) takes. */
function timed(operator: MonoTypeOperatorFunction<TrainingEvent>, total: { ms: number; events: number }) {
  return (source: Observable<TrainingEvent>) =>
    operator(
      new Observable<TrainingEvent>((subscriber) =>
        source.subscribe({
          next: (event) => {
            const start = performance.now();
            subscriber.next(event);
            total.ms += performance.now() - start;
            total.events++;
          },
          error: (e: unknown) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      ),
    );
}

/** Runs the comparison and prints it. */
export async function main(): Promise<void> {
  const backend = await useBestBackend();
  const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-event-log-bench-'));
  const rounds = envInt('BENCH_ROUNDS', 5);
  try {
    const xs = tf.randomUniform([320, 64, 64, 3]);
    const ys = tf.randomUniform([320, 1]).round();
    const model = seedCnn();
    const cost = { ms: 0, events: 0 };
    const epoch = async (withLog: boolean, round: number) => {
      const run$ = fit(model, { xs, ys }, { epochs: 1 });
      const start = performance.now();
      await lastValueFrom(withLog ? run$.pipe(timed(eventLog(path.join(dir, `events-${round}.jsonl`)), cost)) : run$);
      return performance.now() - start;
    };
    await epoch(false, -1);
    await epoch(true, -1);
    cost.ms = 0;
    cost.events = 0;
    const plain: number[] = [];
    const logged: number[] = [];
    for (let round = 0; round < rounds; round++) {
      plain.push(await epoch(false, round));
      logged.push(await epoch(true, round));
    }
    const step = median(plain) / 10;
    console.log(`event log overhead: seed CNN on ${backend.name}, 10 steps of batch 32 per epoch`);
    console.log(
      `  epoch without log ${median(plain).toFixed(0)} ms, with eventLog ${median(logged).toFixed(0)} ms,` +
        ` ratio ${(median(logged) / median(plain)).toFixed(3)}`,
    );
    const perEvent = cost.ms / cost.events;
    console.log(
      `  time inside the pipe per event (eventLog + downstream): ${(perEvent * 1000).toFixed(1)} µs;` +
        ` per step (2 batch events) ${((2 * perEvent) / step * 100).toFixed(3)}% of a ${step.toFixed(0)} ms step (goal <= 1%)`,
    );
    tf.dispose([xs, ys]);
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
