/**
 * The baseline of the sweep benchmark: runs the given trials' fits one after the other in this
 * process, with the same context (event log, backup) but no sweep, and prints the wall time.
 *
 *   node --conditions=@rxfit/source --import tsx bench/sweep-direct.ts '<TrialSpec[] as JSON>'
 */
import { lastValueFrom } from 'rxjs';
import type { TrialSpec } from '@rxfit/sweep';
// The runner module itself, as the sweep's child process loads it: both sides compile the same code.
import { trialContext } from '../packages/sweep/src/runner.js';
import { trial } from './sweep-trial.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as TrialSpec[];
for (const spec of specs) {
  const { context } = trialContext(spec);
  await lastValueFrom(await trial(spec.params, context));
}
