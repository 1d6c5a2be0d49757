/**
 * What a sink costs a training epoch of the seed CNN (64x64x3, batch 32, 10 steps): epochs
 * without a sink, with a `latest` sink whose handler takes 50 ms per event, and with a
 * `lossless` sink that keeps up (5 ms per event), run in alternation in one process. Prints, for
 * each, the median and fastest epoch times and CPU time with their ratios to the epoch without a
 * sink, and how long the loop waited on the sink within the epoch (≤ 1% is the goal).
 *
 * The handlers wait (as a network call or a disk write does) rather than compute: JavaScript
 * runs handlers on the training thread, so CPU-bound work in a handler costs what it costs
 * wherever it is scheduled; what a sink can avoid is making the loop wait for it.
 *
 *   node --conditions=@rxfit/source --import tsx bench/sink-overhead.ts   (BENCH_ROUNDS=11 by default)
 */
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { pathToFileURL } from 'node:url';
import { controlOf, fit, sink, type RunControl, type TrainingEvent } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { seedCnn } from '@rxfit/example-cats-vs-dogs/seed-cnn';
import { envInt } from './models.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts what a variant's handlers saw, to show the sink did its work. */
interface Stats {
  handled: number;
  events: number;
  maxLag: number;
}

interface Variant {
  readonly name: string;
  readonly operator: (stats: Stats) => MonoTypeOperatorFunction<TrainingEvent>;
}

const variants: readonly Variant[] = [
  { name: 'no sink', operator: () => (source) => source },
  {
    name: 'latest sink, 50 ms per event',
    operator: (stats) =>
      sink(
        {
          onEvent: async () => {
            await sleep(50);
            stats.handled++;
          },
        },
        { name: 'bench-latest', mode: 'latest' },
      ),
  },
  {
    name: 'lossless sink, 5 ms per event',
    operator: (stats) =>
      sink(
        {
          onEvent: async () => {
            await sleep(5);
            stats.handled++;
          },
        },
        { name: 'bench-lossless', mode: 'lossless' },
      ),
  },
];

interface Timing {
  /** epochBegin to epochEnd, seen after the sink (wall clock). */
  readonly epochMs: number;
  /** The process's CPU time (user + system) over the same span. */
  readonly cpuMs: number;
  /** How long the loop waited, within the epoch, on what the sink deferred. */
  readonly waitMs: number;
  /** subscribe to completion: adds trainBegin and the wait for the handlers at trainEnd. */
  readonly runMs: number;
}

/**
 * Instrumentation: wraps the run's `defer` (at trainBegin, before the sink sees any event) to
 * add up how long the loop waits on each deferred promise. The wall-clock ratio of two epochs
 * is at the mercy of other processes on a shared machine; the wait is the sink's own doing.
 */
function measureWaits(onWait: (ms: number) => void): MonoTypeOperatorFunction<TrainingEvent> {
  return tap((event) => {
    const control = controlOf(event);
    if (event.type !== 'trainBegin' || !control) return;
    const original = control.defer.bind(control);
    (control as { defer: RunControl['defer'] }).defer = (work) => {
      const start = performance.now();
      const done = () => onWait(performance.now() - start);
      void work.then(done, done);
      original(work);
    };
  });
}

async function oneEpoch(
  model: tf.LayersModel,
  xs: tf.Tensor,
  ys: tf.Tensor,
  variant: Variant,
  stats: Stats,
): Promise<Timing> {
  let begin = 0;
  let end = 0;
  let cpuBegin = process.cpuUsage();
  let cpu = 0;
  let inEpoch = false;
  let waitMs = 0;
  const start = performance.now();
  await lastValueFrom(
    fit(model, { xs, ys }, { epochs: 1, batchSize: 32, shuffle: true }).pipe(
      measureWaits((ms) => {
        if (inEpoch) waitMs += ms;
      }),
      variant.operator(stats),
      tap((event) => {
        stats.events++;
        stats.maxLag = Math.max(stats.maxLag, stats.events - stats.handled);
        if (event.type === 'epochBegin') {
          begin = performance.now();
          cpuBegin = process.cpuUsage();
          inEpoch = true;
        }
        if (event.type === 'epochEnd') {
          end = performance.now();
          const used = process.cpuUsage(cpuBegin);
          cpu = (used.user + used.system) / 1000;
          inEpoch = false;
        }
      }),
    ),
  );
  return { epochMs: end - begin, cpuMs: cpu, waitMs, runMs: performance.now() - start };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs the comparison and prints one line per variant. */
export async function main(): Promise<void> {
  const backend = await useBestBackend();
  const rounds = envInt('BENCH_ROUNDS', 11);
  console.log(
    `sink overhead: seed CNN 64x64x3, batch 32, 10 steps/epoch, backend ${backend.name}, ${rounds} rounds`,
  );
  const model = seedCnn();
  const xs = tf.randomUniform([320, 64, 64, 3]);
  const ys = tf.randomUniform([320, 1]).round();
  const times = variants.map(() => [] as Timing[]);
  const stats = variants.map(() => ({ handled: 0, events: 0, maxLag: 0 }));
  for (const variant of variants)
    await oneEpoch(model, xs, ys, variant, { handled: 0, events: 0, maxLag: 0 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so drift in machine load falls on every variant alike.
    for (let k = 0; k < variants.length; k++) {
      const i = (round + k) % variants.length;
      const timing = await oneEpoch(model, xs, ys, variants[i]!, stats[i]!);
      times[i]!.push(timing);
      if (process.env['BENCH_VERBOSE'])
        console.log(
          `    round ${round} ${variants[i]!.name}: epoch ${timing.epochMs.toFixed(0)} ms, run ${timing.runMs.toFixed(0)} ms`,
        );
    }
  }
  const of = (i: number, key: keyof Timing) => times[i]!.map((t) => t[key]);
  const base = {
    epoch: median(of(0, 'epochMs')),
    min: Math.min(...of(0, 'epochMs')),
    cpu: median(of(0, 'cpuMs')),
    run: median(of(0, 'runMs')),
  };
  for (const [i, variant] of variants.entries()) {
    const epoch = median(of(i, 'epochMs'));
    const min = Math.min(...of(i, 'epochMs'));
    const cpu = median(of(i, 'cpuMs'));
    const wait = median(of(i, 'waitMs'));
    const run = median(of(i, 'runMs'));
    const s = stats[i]!;
    console.log(`  ${variant.name}`);
    console.log(
      `    epoch: median ${epoch.toFixed(0)} ms (ratio ${(epoch / base.epoch).toFixed(3)}), fastest ${min.toFixed(0)} ms (ratio ${(min / base.min).toFixed(3)}); CPU ${cpu.toFixed(0)} ms (ratio ${(cpu / base.cpu).toFixed(3)})`,
    );
    if (i > 0) {
      console.log(
        `    the loop waited on the sink ${wait.toFixed(1)} ms per epoch (${((100 * wait) / epoch).toFixed(2)}% of it); whole run ${run.toFixed(0)} ms (ratio ${(run / base.run).toFixed(3)}: trainEnd waits for the handlers); handled ${s.handled} of ${s.events} events${i === 1 ? ' (the others were batch events replaced by newer ones)' : `, at most ${s.maxLag} behind`}`,
      );
    }
  }
  tf.dispose([xs, ys]);
  model.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
