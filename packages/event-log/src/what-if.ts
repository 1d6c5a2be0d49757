import { defer, map, switchMap, toArray, type MonoTypeOperatorFunction, type Observable, type OperatorFunction } from 'rxjs';
import type { Logs, TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core';
import { whatIfOutcome, type WhatIfOutcome } from './run-summaries.js';

/** What {@link simulate} reports: the {@link WhatIfOutcome} and every event of the simulated run. */
export interface WhatIfResult extends WhatIfOutcome {
  readonly events: readonly TrainingEvent[];
}

/**
 * Turns the logged events of one run into a live-like run: `scriptedRun` re-emits the logged
 * epoch (and batch) logs with a fresh control, so decision operators act as they would have
 * live: stop, change the learning rate, emit. Only the decisions are simulated: the losses are
 * the logged ones whatever the operators decide, and the run has no model.
 *
 * ## Example
 * ```ts
 * import { readEventLog, replayAsRun } from '@rxfit/event-log';
 * const events = await lastValueFrom(readEventLog('events.jsonl', { runId }).pipe(toArray()));
 * replayAsRun(events).pipe(earlyStopping({ patience: 3 })).subscribe(console.log);
 * ```
 * @param events - The events of one run (replayed or live); only `trainBegin`, `epochEnd` and `batchEnd` are used.
 * @returns A cold Observable of a simulated run, with run id `<runId>/what-if`.
 * @throws Error when the events belong to several runs or hold no `epochEnd`.
 */
export function replayAsRun(events: readonly TrainingEvent[]): Observable<TrainingEvent> {
  const runIds = [...new Set(events.map((e) => e.runId))];
  if (runIds.length > 1) {
    throw new Error(`replayAsRun: the events belong to ${runIds.length} runs (${runIds.join(', ')}); select one with readEventLog(path, { runId })`);
  }
  const epochEnds = events.filter((e): e is Extract<TrainingEvent, { type: 'epochEnd' }> => e.type === 'epochEnd');
  const first = epochEnds[0];
  if (!first) throw new Error('replayAsRun: the events hold no epochEnd: nothing to replay');
  const begin = events.find((e) => e.type === 'trainBegin');
  const initialEpoch = begin?.type === 'trainBegin' ? Math.min(begin.params.initialEpoch, first.epoch) : first.epoch;
  const withoutLr = (logs: Logs): Logs => Object.fromEntries(Object.entries(logs).filter(([key]) => key !== 'lr'));

  const script: Logs[] = [];
  for (const e of epochEnds) script[e.epoch] = withoutLr(e.logs);
  for (let epoch = 0; epoch < script.length; epoch++) {
    // Epochs before the first logged one are skipped by scriptedRun; a gap is a log that lost epochs.
    if (script[epoch] === undefined) {
      if (epoch >= initialEpoch) throw new Error(`replayAsRun: epoch ${epoch} has no epochEnd in the log`);
      script[epoch] = withoutLr(first.logs);
    }
  }
  const batchLogs = new Map<string, Logs>();
  const batches = new Map<number, number>();
  for (const e of events) {
    if (e.type !== 'batchEnd') continue;
    batchLogs.set(`${e.epoch}:${e.batch}`, e.logs);
    batches.set(e.epoch, Math.max(batches.get(e.epoch) ?? 0, e.batch + 1));
  }
  const batchesPerEpoch = Math.max(1, ...batches.values());
  return scriptedRun(script, {
    initialEpoch,
    batchesPerEpoch,
    learningRate: first.logs['lr'] ?? 0.001,
    runId: `${first.runId}/what-if`,
    batchLogs: (epoch, batch) =>
      batchLogs.get(`${epoch}:${batch}`) ?? {
        ...Object.fromEntries(Object.entries(script[epoch] ?? {}).filter(([key]) => !key.startsWith('val_'))),
        size: 1,
      },
  });
}

/**
 * Asks "what if": replays the events of one run through decision operators as if live, and
 * reports where they would have stopped it and how they would have set the learning rate.
 *
 * ## Example
 * ```ts
 * import { readEventLog, simulate } from '@rxfit/event-log';
 * const { stoppedAt, stop } = await lastValueFrom(readEventLog('events.jsonl', { runId }).pipe(simulate(earlyStopping({ patience: 10 }))));
 * ```
 * @param operators - The operators to try, applied in order (as in `pipe`).
 * @returns An operator that collects the events and emits one {@link WhatIfResult}.
 * @throws Error (in the stream) when the events belong to several runs or hold no `epochEnd`.
 */
export function simulate(...operators: MonoTypeOperatorFunction<TrainingEvent>[]): OperatorFunction<TrainingEvent, WhatIfResult> {
  operators.forEach((op, i) => {
    if (typeof op !== 'function') throw new TypeError(`simulate: operator ${i} must be an operator function, got ${typeof op}`);
  });
  return (source) =>
    source.pipe(
      toArray(),
      switchMap((events) =>
        defer(() => operators.reduce((run$, op) => run$.pipe(op), replayAsRun(events))).pipe(
          toArray(),
          map((simulated) => ({ ...whatIfOutcome(simulated), events: simulated })),
        ),
      ),
    );
}

/**
 * {@link simulate} as a function: `whatIf(events$, ...operators)` is `events$.pipe(simulate(...operators))`.
 *
 * ## Example
 * ```ts
 * import { readEventLog, whatIf } from '@rxfit/event-log';
 * const result = await lastValueFrom(whatIf(readEventLog('events.jsonl', { runId }), earlyStopping({ patience: 10 })));
 * console.log(result.stoppedAt, result.stop?.reason);
 * ```
 * @param events$ - The events of one run, e.g. `readEventLog(path, { runId })`.
 * @param operators - The operators to try.
 * @returns An Observable of one {@link WhatIfResult}.
 */
export function whatIf(
  events$: Observable<TrainingEvent>,
  ...operators: MonoTypeOperatorFunction<TrainingEvent>[]
): Observable<WhatIfResult> {
  return events$.pipe(simulate(...operators));
}
