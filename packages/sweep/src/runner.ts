import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { backupAndRestore, eventLog, resumable } from '@rxfit/event-log';
import type { RunnerOutcome, StopOrder, TrialContext, TrialFunction, TrialMessage, TrialSpec } from './types.js';

/** Who stops a pruned trial: the `by` of its `stopRequested`. */
const SWEEP = 'sweep';

/** How a runner talks to the coordinator. */
export interface RunnerPort {
  send(message: TrialMessage): void;
  /** The stop the coordinator asked for, if any (polled at every event). */
  stopOrder(): StopOrder | undefined;
  /** Settles when what was sent has left (Redis); the outcome is reported after it. */
  flush?(): Promise<void>;
}

/** Where a trial keeps its files. */
export function trialPaths(dir: string): { log: string; backup: string } {
  return { log: path.join(dir, 'events.jsonl'), backup: path.join(dir, 'backup') };
}

/** Loads the `trial` export (or the default export) of a trial module. */
export async function loadTrial(module: string): Promise<TrialFunction> {
  const url = module.startsWith('file:') ? module : pathToFileURL(path.resolve(module)).href;
  const loaded = (await import(url)) as { trial?: unknown; default?: unknown };
  const trial = loaded.trial ?? loaded.default;
  if (typeof trial !== 'function') {
    throw new TypeError(`rxfit-sweep: ${module} must export a function named trial (params, context) => Observable of training events`);
  }
  return trial as TrialFunction;
}

const QUIET = new Set(['batchBegin', 'batchEnd']);

/**
 * The context a trial gets, without the sweep: what the runner hands `trial(params, context)`.
 * `logged()` says whether the trial called `context.resumable` (and so has its event log).
 */
export function trialContext(spec: TrialSpec): { context: TrialContext; logged: () => boolean } {
  const { log, backup } = trialPaths(spec.dir);
  let logged = false;
  const context: TrialContext = {
    sweepId: spec.sweepId,
    trialId: spec.trialId,
    index: spec.index,
    params: spec.params,
    attempt: spec.attempt,
    dir: spec.dir,
    log,
    backup,
    resumable(model, factory) {
      logged = true;
      return resumable({ dir: backup, log, model }, (resume) => factory({ runId: spec.trialId, ...resume })).pipe(
        eventLog(log),
        backupAndRestore({ dir: backup, deleteOnComplete: false }),
      );
    },
  };
  return { context, logged: () => logged };
}

/**
 * Runs one trial where it is (the in-process executor, a child process, a Redis worker): calls
 * the trial function, gives the run its event log (and a resumable backup through
 * `context.resumable`), forwards its events but batches to the coordinator, and stops it through
 * its own control when the coordinator prunes it.
 */
export async function runTrial(trial: TrialFunction, spec: TrialSpec, port: RunnerPort, worker = String(process.pid)): Promise<RunnerOutcome> {
  await mkdir(spec.dir, { recursive: true });
  const { context, logged } = trialContext(spec);
  const { log } = context;
  port.send({ kind: 'started', trialId: spec.trialId, attempt: spec.attempt, worker });
  let epochs = 0;
  let lastSeq: number | undefined;
  let end: RunnerOutcome['reason'] | undefined;
  let stopped = false;
  try {
    let run$: Observable<TrainingEvent> = await trial(spec.params, context);
    if (!logged()) {
      // Without a backup the trial cannot resume: a new attempt starts its log over.
      await rm(log, { force: true });
      run$ = run$.pipe(eventLog(log));
    }
    await lastValueFrom(
      run$.pipe(
        tap((event) => {
          lastSeq = event.seq;
          if (event.type === 'epochEnd') epochs = Math.max(epochs, event.epoch + 1);
          if (event.type === 'trainEnd') end = event.reason;
          if (!QUIET.has(event.type)) port.send({ kind: 'event', trialId: spec.trialId, attempt: spec.attempt, event: plain(event) });
          if (stopped || event.replayed === true || !STOPPABLE.has(event.type)) return;
          const order = port.stopOrder();
          if (!order) return;
          const control = controlOf(event, SWEEP);
          if (!control || control.stopping) return;
          stopped = true;
          control.stop(order.reason, { by: SWEEP, details: order.details });
        }),
      ),
      { defaultValue: undefined },
    );
    await port.flush?.();
    return lastSeq === undefined ? { reason: end ?? 'completed', epochs } : { reason: end ?? 'completed', epochs, lastSeq };
  } catch (error) {
    await port.flush?.();
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { reason: 'failed', error: message, epochs, ...(lastSeq === undefined ? {} : { lastSeq }) };
  }
}

const STOPPABLE = new Set(['epochBegin', 'batchBegin', 'batchEnd', 'epochEnd']);

function plain(event: TrainingEvent): TrainingEvent {
  // Own enumerable string keys only: the control (a symbol key) stays behind.
  return Object.fromEntries(Object.entries(event)) as unknown as TrainingEvent;
}
