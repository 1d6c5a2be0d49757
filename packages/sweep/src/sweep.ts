import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { isEvent, type EventOfType, type Logs } from '@rxfit/core';
import {
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  isImprovement,
  monitorDirection,
} from '@rxfit/core/operator-kit';
import { readEventLog } from '@rxfit/event-log';
import type { SweepEvent, SweepEventBody, SweepEventOf } from './events.js';
import { inProcessExecutor } from './in-process-executor.js';
import { localExecutor } from './local-executor.js';
import type { Mode, Pruner, TrialStatus } from './pruner.js';
import { trialPaths } from './runner.js';
import { randomSampler, type Sampler } from './samplers.js';
import { checkSpace, type Params, type Space } from './space.js';
import { SweepLogWriter, readSweepLog } from './sweep-log.js';
import type { Executor, ExecutionOutcome, ExecutorSession, StopOrder, TrialExecution, TrialFunction, TrialMessage, TrialResult, TrialSpec } from './types.js';

/** Options of {@link sweep}. */
export interface SweepOptions<S = unknown> {
  /** The parameters to search: `{ lr: logUniform(1e-4, 1e-1), units: choice([32, 64]) }`. */
  readonly space: Space;
  /**
   * The trial: a function `(params, context) => fit(...).pipe(...)` (runs in this process), or the
   * path of a module exporting it as `trial` (runs in child processes, or on Redis workers).
   */
  readonly trial: TrialFunction | string;
  /** The epoch log key that ranks trials and feeds the pruner (`val_acc`, `val_loss`). */
  readonly metric: string;
  /** Whether larger or smaller `metric` is better. @default from the name, as Keras' mode 'auto' */
  readonly mode?: Mode;
  /** Draws each trial's parameters. @default randomSampler({ seed: 0 }) */
  readonly sampler?: Sampler;
  /** Stops unpromising trials from their `epochEnd` events. @default none */
  readonly pruner?: Pruner<S>;
  /** How many trials to run (a grid may end sooner). */
  readonly maxTrials: number;
  /** Trials running at once. @default 1 */
  readonly concurrency?: number;
  /** The sweep's folder: `sweep.jsonl` and `trials/<trialId>/` (events.jsonl, backup, output.log). Run again with the same folder to resume. */
  readonly dir: string;
  /** Where trials run. @default inProcessExecutor() for a function, localExecutor() for a module path */
  readonly executor?: Executor;
  /** How many times a trial whose process was lost (killed, crashed) is run again before it is marked failed. @default 1 */
  readonly retries?: number;
}

const KNOWN = ['space', 'trial', 'metric', 'mode', 'sampler', 'pruner', 'maxTrials', 'concurrency', 'dir', 'executor', 'retries'];

interface TrialRecord {
  readonly trialId: string;
  readonly index: number;
  readonly params: Params;
  attempt: number;
  losses: number;
  readonly epochs: Map<number, Logs>;
  prunedAt?: { epoch: number; rung?: number; milestone?: number };
  stopOrdered: boolean;
  /** The stop sent, sent again to a retry of the trial. */
  order?: StopOrder;
  finished: boolean;
  /** Unfinished in the log of an earlier run of this sweep: ask the executor where it stands. */
  recovering: boolean;
}

/** The id of trial `index`: `trial-0007`. */
export function trialIdOf(index: number): string {
  return `trial-${String(index).padStart(4, '0')}`;
}

/**
 * A hyperparameter sweep: draws `maxTrials` parameter sets from `space`, runs `trial` for each,
 * `concurrency` at a time, and prunes trials from their own `epochEnd` events. A pruned trial
 * is stopped through its own control (`stopRequested` by `'sweep'`, with the reason and the rung
 * in `details`). Every trial keeps its event log in `dir/trials/<id>/events.jsonl`; the sweep
 * logs its own events in `dir/sweep.jsonl`. Subscribing again with the same `dir` resumes: the
 * log is replayed (its events emitted first, `replayed: true`, then the finished trials' epochs
 * as `trialEvent`s), finished trials are not run again, interrupted ones resume from their backup
 * (`context.resumable`).
 *
 * ## Example
 * ```ts
 * import { lastValueFrom } from 'rxjs';
 * import { asha, choice, logUniform, sweep, toLeaderboard, formatLeaderboard } from '@rxfit/sweep';
 * const board = await lastValueFrom(
 *   sweep({
 *     space: { lr: logUniform(1e-4, 1e-1), units: choice([16, 64]) },
 *     trial: './trial.js', metric: 'val_acc', pruner: asha({ maxT: 9, reductionFactor: 3 }),
 *     maxTrials: 12, concurrency: 2, dir: 'sweeps/first',
 *   }).pipe(toLeaderboard()),
 * );
 * console.log(formatLeaderboard(board));
 * ```
 * @param options - See {@link SweepOptions}.
 * @returns A cold Observable of sweep events; unsubscribing stops the trials (their backups stay).
 * @throws TypeError/RangeError naming the option for bad options.
 */
export function sweep<S = unknown>(options: SweepOptions<S>): Observable<SweepEvent> {
  checkOptions('sweep', options, KNOWN);
  const { space, trial, metric, sampler = randomSampler(), pruner, maxTrials, concurrency = 1, dir, retries = 1 } = options;
  checkSpace(space);
  if (typeof trial !== 'string') checkFunction('sweep', 'trial', trial);
  else checkString('sweep', 'trial', trial);
  checkString('sweep', 'metric', metric);
  checkString('sweep', 'dir', dir);
  checkInteger('sweep', 'maxTrials', maxTrials, 1);
  checkInteger('sweep', 'concurrency', concurrency, 1);
  checkInteger('sweep', 'retries', retries, 0);
  const mode = options.mode ?? monitorDirection(metric);
  if (mode === undefined) throw new TypeError(`sweep: cannot tell whether '${metric}' is better large or small; give mode: 'min' or 'max'`);
  checkOneOf('sweep', 'mode', mode, ['min', 'max']);
  if (typeof sampler.sample !== 'function') throw new TypeError('sweep: sampler must be a sampler (randomSampler(), gridSampler())');
  if (pruner !== undefined && typeof pruner.report !== 'function') throw new TypeError('sweep: pruner must be a pruner (asha(), medianPruner())');
  const executor = options.executor ?? (typeof trial === 'string' ? localExecutor() : inProcessExecutor());
  const root = path.resolve(dir);
  const better = (a: number, b: number | undefined): boolean => isImprovement(mode, 0, a, b);

  return new Observable<SweepEvent>((subscriber) => {
    let closed = false;
    let session: ExecutorSession | undefined;
    let writer: SweepLogWriter | undefined;
    const running = new Map<string, { record: TrialRecord; execution: TrialExecution }>();

    const main = async (): Promise<void> => {
      await mkdir(root, { recursive: true });
      const logFile = path.join(root, 'sweep.jsonl');
      const prior = readSweepLog(logFile);
      const begin = prior.find((e): e is SweepEventOf<'sweepBegin'> => e.type === 'sweepBegin');
      const sweepId = begin?.sweepId ?? randomUUID();
      let seq = prior.length === 0 ? 0 : prior[prior.length - 1]!.seq + 1;
      writer = new SweepLogWriter(logFile);
      const emit = (body: SweepEventBody): SweepEvent => {
        // trialEvent is not logged (the trial's own log holds it): it shares the seq of the event before.
        const n = body.type === 'trialEvent' ? seq - 1 : seq++;
        const event = Object.freeze({ sweepId, seq: n, time: Date.now(), ...body }) as SweepEvent;
        if (event.type !== 'trialEvent') writer?.append(event);
        if (!closed) subscriber.next(event);
        return event;
      };
      // The log replays first, as a resumed run's does: a fold over the sweep's events sees it whole.
      for (const event of prior) if (!closed) subscriber.next(event);
      emit({
        type: 'sweepBegin',
        resumed: begin !== undefined,
        params: {
          metric, mode, maxTrials, concurrency, sampler: sampler.name, executor: executor.name,
          ...(pruner ? { pruner: pruner.name } : {}),
          space: space,
        },
      });

      // Rebuild from the log: which trials exist, which finished, and the pruner's state.
      let prunerState = pruner?.initialState(mode) as S;
      const records = new Map<string, TrialRecord>();
      const finishedStatus = new Map<string, TrialStatus>();
      const counts = { completed: 0, pruned: 0, failed: 0 };
      let best: SweepEventOf<'sweepEnd'>['best'];
      const noteResult = (id: string, params: Params, result: TrialResult): void => {
        if (result.best !== undefined && better(result.best, best?.value)) best = { trialId: id, params, value: result.best, epoch: result.bestEpoch ?? 0 };
      };
      let nextIndex = 0;
      for (const event of prior) {
        if (event.type === 'trialStarted') {
          nextIndex = Math.max(nextIndex, event.index + 1);
          const known = records.get(event.trialId);
          if (known) known.attempt = Math.max(known.attempt, event.attempt);
          else records.set(event.trialId, newRecord(event.trialId, event.index, event.params, event.attempt));
        } else if (event.type === 'trialRetried') {
          const record = records.get(event.trialId);
          if (record) record.losses++;
        } else if (event.type === 'trialPruned') {
          const record = records.get(event.trialId);
          if (record) {
            record.stopOrdered = true;
            record.prunedAt = { epoch: event.epoch, ...rungOf(event) };
            // Pruned before the crash: the resumed trial stops again at once.
            record.order = { reason: event.reason, details: { ...record.prunedAt, value: event.value, ...cutoffOf(event), metric } };
          }
        } else if (event.type === 'trialCompleted' || event.type === 'trialFailed') {
          const status: TrialStatus = event.type === 'trialFailed' ? 'failed' : event.result.reason === 'pruned' ? 'pruned' : 'completed';
          finishedStatus.set(event.trialId, status);
          counts[status]++;
          noteResult(event.trialId, event.params, event.result);
        }
      }
      for (const record of records.values()) {
        const status = finishedStatus.get(record.trialId);
        if (status === undefined) continue;
        record.finished = true;
        for (const e of await epochEndsOf(record.trialId)) {
          emit({ type: 'trialEvent', trialId: record.trialId, attempt: record.attempt, event: e });
          const value = e.logs[metric];
          if (pruner && value !== undefined) prunerState = pruner.report(prunerState, { trialId: record.trialId, epoch: e.epoch, value }).state;
        }
        if (pruner) prunerState = pruner.finished(prunerState, record.trialId, status);
      }
      const queue: TrialRecord[] = [...records.values()].filter((r) => !r.finished).sort((a, b) => a.index - b.index);
      for (const record of queue) {
        record.attempt++;
        record.recovering = true;
      }
      let exhausted = false;

      function trialDir(trialId: string): string {
        return path.join(root, 'trials', trialId);
      }
      /** The `epochEnd` events in a trial's own log (a torn last line, from a kill, is dropped). */
      async function epochEndsOf(trialId: string): Promise<EventOfType<'epochEnd'>[]> {
        const file = trialPaths(trialDir(trialId)).log;
        try {
          const events = await lastValueFrom(readEventLog(file, { onWarning: () => {} }).pipe(toArray()));
          return events.filter(isEvent('epochEnd'));
        } catch (error) {
          // A trial that had not opened its log yet has no epochs.
          if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return [];
          throw error;
        }
      }
      function newRecord(trialId: string, index: number, params: Params, attempt: number): TrialRecord {
        return { trialId, index, params, attempt, losses: 0, epochs: new Map(), stopOrdered: false, finished: false, recovering: false };
      }
      const specOf = (record: TrialRecord): TrialSpec => ({
        sweepId, trialId: record.trialId, index: record.index, params: record.params, attempt: record.attempt, dir: trialDir(record.trialId),
      });
      const resultOf = (record: TrialRecord, reason: TrialResult['reason']): TrialResult => {
        let bestValue: number | undefined;
        let bestEpoch: number | undefined;
        let last: Logs | undefined;
        for (const [epoch, logs] of [...record.epochs].sort((a, b) => a[0] - b[0])) {
          last = logs;
          const value = logs[metric];
          if (value !== undefined && !Number.isNaN(value) && better(value, bestValue)) {
            bestValue = value;
            bestEpoch = epoch;
          }
        }
        return {
          reason: record.prunedAt && reason !== 'failed' ? 'pruned' : reason,
          epochs: record.epochs.size,
          ...(bestValue === undefined ? {} : { best: bestValue, bestEpoch }),
          ...(last ? { lastLogs: last } : {}),
          ...(record.prunedAt ? { prunedAt: record.prunedAt } : {}),
        };
      };

      const onMessage = (message: TrialMessage): void => {
        const entry = running.get(message.trialId);
        if (!entry || closed) return;
        const { record } = entry;
        if (message.kind === 'started') {
          if (message.attempt > record.attempt) {
            // The executor ran the trial again on its own (a stalled BullMQ job): say so.
            emit({ type: 'trialRetried', trialId: record.trialId, attempt: message.attempt, reason: 'its worker was lost; the job was picked up again' });
            record.attempt = message.attempt;
          }
          emit({ type: 'trialRunning', trialId: record.trialId, attempt: message.attempt, worker: message.worker });
          return;
        }
        const { event } = message;
        emit({ type: 'trialEvent', trialId: record.trialId, attempt: message.attempt, event });
        if (event.type !== 'epochEnd') return;
        record.epochs.set(event.epoch, event.logs);
        const value = event.logs[metric];
        if (!pruner || value === undefined) return;
        const step = pruner.report(prunerState, { trialId: record.trialId, epoch: event.epoch, value });
        prunerState = step.state;
        const decision = step.decision;
        if (decision.action === 'continue' || record.stopOrdered) return;
        record.stopOrdered = true;
        const details = {
          pruner: pruner.name, action: decision.action, metric, value: decision.value, epoch: event.epoch,
          ...rungOf(decision),
          ...cutoffOf(decision),
        };
        if (decision.action === 'prune') {
          record.prunedAt = { epoch: event.epoch, ...rungOf(decision) };
          emit({
            type: 'trialPruned', trialId: record.trialId, epoch: event.epoch, reason: decision.reason, value: decision.value,
            ...rungOf(decision),
            ...cutoffOf(decision),
          });
        }
        record.order = { reason: decision.reason, details };
        entry.execution.stop(record.order);
      };

      session = await executor.open({ sweepId, dir: root, trial, onMessage });
      const live = session;

      // Epochs the sweep did not see live (a coordinator restart while the trial ran) are in its log.
      const catchUp = async (record: TrialRecord, outcome: ExecutionOutcome): Promise<void> => {
        if (outcome.status !== 'finished' || outcome.outcome.epochs <= record.epochs.size) return;
        for (const e of await epochEndsOf(record.trialId)) if (!record.epochs.has(e.epoch)) record.epochs.set(e.epoch, e.logs);
      };

      const finish = (record: TrialRecord, outcome: ExecutionOutcome): TrialRecord | undefined => {
        let status: TrialStatus;
        if (outcome.status === 'lost') {
          if (outcome.retriable && record.losses < retries) {
            record.losses++;
            record.attempt++;
            emit({ type: 'trialRetried', trialId: record.trialId, attempt: record.attempt, reason: `${outcome.reason}; retry ${String(record.losses)} of ${String(retries)}, resuming from its backup where it has one${outcome.output ?? ''}` });
            return record;
          }
          status = 'failed';
          const attempts = record.attempt;
          emit({
            type: 'trialFailed', trialId: record.trialId, index: record.index, params: record.params, attempts,
            error: `${outcome.reason}; no retries left (${String(attempts)} attempt${attempts === 1 ? '' : 's'}, retries: ${String(retries)})${outcome.output ?? ''}`,
            result: resultOf(record, 'failed'),
          });
        } else if (outcome.outcome.reason === 'failed') {
          status = 'failed';
          emit({
            type: 'trialFailed', trialId: record.trialId, index: record.index, params: record.params, attempts: record.attempt,
            error: outcome.outcome.error ?? 'the trial failed', result: resultOf(record, 'failed'),
          });
        } else {
          const result = resultOf(record, outcome.outcome.reason);
          status = result.reason === 'pruned' ? 'pruned' : 'completed';
          emit({ type: 'trialCompleted', trialId: record.trialId, index: record.index, params: record.params, result });
          noteResult(record.trialId, record.params, result);
        }
        counts[status]++;
        record.finished = true;
        if (pruner) prunerState = pruner.finished(prunerState, record.trialId, status);
        return undefined;
      };

      const nextTrial = (): TrialRecord | undefined => {
        const queued = queue.shift();
        if (queued) return queued;
        if (exhausted || nextIndex >= maxTrials) return undefined;
        const params = sampler.sample(space, nextIndex);
        if (params === undefined) {
          exhausted = true;
          return undefined;
        }
        const record = newRecord(trialIdOf(nextIndex), nextIndex, params, 1);
        nextIndex++;
        return record;
      };

      const start = async (record: TrialRecord): Promise<void> => {
        emit({ type: 'trialStarted', trialId: record.trialId, index: record.index, params: record.params, attempt: record.attempt });
        const spec = specOf(record);
        const recovering = record.recovering;
        record.recovering = false;
        const execution = (recovering ? await live.recover?.(spec) : undefined) ?? live.run(spec);
        running.set(record.trialId, { record, execution });
        // A retry of a trial that was told to stop is told again.
        if (record.order) execution.stop(record.order);
      };

      const waiting = new Map<string, Promise<{ record: TrialRecord; outcome: ExecutionOutcome }>>();
      const launch = async (): Promise<void> => {
        while (!closed && running.size < concurrency) {
          const record = nextTrial();
          if (!record) return;
          await start(record);
          const entry = running.get(record.trialId)!;
          waiting.set(record.trialId, entry.execution.done.then((outcome) => ({ record, outcome })));
        }
      };
      await launch();
      while (!closed && waiting.size > 0) {
        const { record, outcome } = await Promise.race(waiting.values());
        waiting.delete(record.trialId);
        running.delete(record.trialId);
        if (closed) break;
        await catchUp(record, outcome);
        const again = finish(record, outcome);
        if (again) queue.unshift(again);
        await launch();
      }
      if (closed) return;
      emit({ type: 'sweepEnd', ...counts, ...(best ? { best } : {}) });
      await live.close();
      session = undefined;
    };

    main().then(
      () => {
        writer?.close();
        writer = undefined;
        subscriber.complete();
      },
      (error: unknown) => {
        writer?.close();
        writer = undefined;
        void session?.close();
        subscriber.error(error);
      },
    );
    return () => {
      if (closed) return;
      closed = true;
      void session?.close();
      writer?.close();
      writer = undefined;
    };
  });
}

/** A pruning's rung and milestone, where it has them (ASHA), as optional fields. */
function rungOf(where: { readonly rung?: number; readonly milestone?: number }): { rung?: number; milestone?: number } {
  return {
    ...(where.rung === undefined ? {} : { rung: where.rung }),
    ...(where.milestone === undefined ? {} : { milestone: where.milestone }),
  };
}

/** A pruning's cutoff, where it has one, as an optional field. */
function cutoffOf(where: { readonly cutoff?: number }): { cutoff?: number } {
  return where.cutoff === undefined ? {} : { cutoff: where.cutoff };
}
