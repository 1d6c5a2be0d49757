import assert from 'node:assert/strict';
import { lastValueFrom, toArray } from 'rxjs';
import { readEventLog } from '@rxfit/event-log';
import type { TrainingEvent } from '@rxfit/core';

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
  const stops = events.filter((e) => e.type === 'stopRequested') as Extract<TrainingEvent, { type: 'stopRequested' }>[];
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.by, 'sweep');
  assert.match(stops[0]!.reason, new RegExp(`rung ${String(rung)}`));
  assert.equal((stops[0] as unknown as { details: { rung: number } }).details.rung, rung);
  const end = events.at(-1) as Extract<TrainingEvent, { type: 'trainEnd' }>;
  assert.equal(end.type, 'trainEnd');
  assert.equal(end.reason, 'stopped');
}
