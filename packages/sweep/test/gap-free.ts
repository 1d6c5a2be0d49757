import assert from 'node:assert/strict';
import { lastValueFrom, toArray } from 'rxjs';
import { readEventLog } from '@rxfit/event-log';
import type { TrainingEvent } from '@rxfit/core';
import type { SweepEvent } from '@rxfit/sweep';
import path from 'node:path';

/** Reads a trial's log and checks it is one complete run: seq 0..n without gaps, each epoch once, one trainEnd last. */
export async function assertCompleteLog(file: string, epochs: number): Promise<TrainingEvent[]> {
  const events = await lastValueFrom(readEventLog(file).pipe(toArray()));
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i), `${file}: seq without gaps`);
  const ends = events.filter((e) => e.type === 'epochEnd').map((e) => (e as { epoch: number }).epoch);
  assert.deepEqual(ends, Array.from({ length: epochs }, (_, i) => i), `${file}: every epoch once`);
  const trainEnds = events.filter((e) => e.type === 'trainEnd');
  assert.equal(trainEnds.length, 1, `${file}: one trainEnd`);
  assert.equal(events.at(-1)?.type, 'trainEnd');
  assert.equal((trainEnds[0] as { reason: string }).reason, 'completed');
  return events;
}

/** Reads a pruned trial's log: one stopRequested by 'sweep' naming the rung, then trainEnd stopped, seq without gaps. */
export async function assertPrunedBySweep(file: string, rung: number): Promise<void> {
  const events = await lastValueFrom(readEventLog(file).pipe(toArray()));
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i), `${file}: seq without gaps`);
  const stops = events.filter((e): e is Extract<TrainingEvent, { type: 'stopRequested' }> => e.type === 'stopRequested');
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.by, 'sweep');
  assert.match(stops[0]!.reason, new RegExp(`rung ${String(rung)}`));
  assert.equal((stops[0] as unknown as { details: { rung: number } }).details.rung, rung);
  const end = events.at(-1) as Extract<TrainingEvent, { type: 'trainEnd' }>;
  assert.equal(end.type, 'trainEnd');
  assert.equal(end.reason, 'stopped');
}

/**
 * The pruning scenario of the executor tests (ceilings 0.9 then 0.3, ASHA η 3): trial-0001 is
 * pruned at rung 0 and stops early, through its own control.
 */
export async function assertSecondTrialPruned(events: readonly SweepEvent[], dir: string): Promise<void> {
  const pruned = events.filter((e) => e.type === 'trialPruned');
  assert.deepEqual(pruned.map((e) => [e.trialId, e.epoch, e.rung]), [['trial-0001', 0, 0]]);
  const completed = events.find((e) => e.type === 'trialCompleted' && e.trialId === 'trial-0001');
  assert.ok(completed?.type === 'trialCompleted');
  assert.equal(completed.result.reason, 'pruned');
  assert.ok(completed.result.epochs < 9, `stopped early: ${String(completed.result.epochs)} epochs`);
  await assertPrunedBySweep(path.join(dir, 'trials/trial-0001/events.jsonl'), 0);
}
