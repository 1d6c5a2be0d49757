/**
 * The baseline of the sweep benchmark: runs the given trials' fits one after the other in this
 * process, with the same context (event log, backup) but no sweep.
 *
 *   node --conditions=@rxfit/source --import tsx bench/sweep-direct.ts '<TrialSpec[] as JSON>' [--wait]
 *
 * With `--wait` it prints `ready` once loaded, waits for a line on stdin, runs, prints `done` and
 * exits when stdin closes: the benchmark then measures the fits alone, as it does a started worker.
 */
import { createInterface } from 'node:readline';
import { lastValueFrom } from 'rxjs';
import type { TrialSpec } from '@rxfit/sweep';
// The runner module itself, as the sweep's child process loads it: both sides compile the same code.
import { trialContext } from '../packages/sweep/src/runner.js';
import { trial } from './sweep-trial.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as TrialSpec[];
const wait = process.argv.includes('--wait');
const lines = wait ? createInterface({ input: process.stdin })[Symbol.asyncIterator]() : undefined;
if (lines) {
  process.stdout.write('ready\n');
  await lines.next();
}
for (const spec of specs) {
  const { context } = trialContext(spec);
  await lastValueFrom(await trial(spec.params, context));
}
if (lines) {
  process.stdout.write('done\n');
  await lines.next();
}
