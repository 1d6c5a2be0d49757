import type { Observable } from 'rxjs';
import type { LayersModel } from '@tensorflow/tfjs';
import type { Logs, TrainingEvent } from '@rxfit/core';
import type { ResumePoint } from '@rxfit/event-log';
import type { Params } from './space.js';

/** What `sweep` hands each trial besides its parameters: its spec, its files and `resumable`. */
export interface TrialContext extends TrialSpec {
  /** The trial's event log (`events.jsonl` in its folder), in `@rxfit/event-log`'s format. */
  readonly log: string;
  /** The trial's backup folder (`backup` in its folder). */
  readonly backup: string;
  /**
   * Makes the run resumable and logged: `resumable` + `eventLog(log)` + `backupAndRestore`
   * (kept after completion, so a rerun replays instead of training again). `factory` gets
   * `{ runId: trialId }` or the resume point: spread it into `fit`'s options.
   */
  resumable(model: LayersModel, factory: (resume: TrialResume) => Observable<TrainingEvent>): Observable<TrainingEvent>;
}

/** The options a trial spreads into `fit`: its run id, and where to resume. */
export type TrialResume = ResumePoint & { readonly runId: string };

/** A trial: the parameters in, the user's `fit(...).pipe(...)` out. */
export type TrialFunction = (
  params: Params,
  context: TrialContext,
) => Observable<TrainingEvent> | Promise<Observable<TrainingEvent>>;

/** Which trial to run: the coordinator sends it to an executor. */
export interface TrialSpec {
  readonly sweepId: string;
  readonly trialId: string;
  /** 0, 1, 2, ... in the order the sampler drew the trials. */
  readonly index: number;
  readonly params: Params;
  /** 1 for the first run of this trial, 2 for its first retry, ... */
  readonly attempt: number;
  /** The trial's folder (absolute): `<sweep dir>/trials/<trialId>`. */
  readonly dir: string;
}

/** A stop the sweep asks of a running trial. */
export interface StopOrder {
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** How a trial's process ended, as its runner saw it. */
export interface RunnerOutcome {
  readonly reason: 'completed' | 'stopped' | 'failed';
  readonly error?: string;
  readonly epochs: number;
  readonly lastSeq?: number;
}

/** How an executor saw a trial end: the runner's outcome, or the process gone. */
export type ExecutionOutcome =
  | { readonly status: 'finished'; readonly outcome: RunnerOutcome }
  | { readonly status: 'lost'; readonly reason: string; readonly retriable: boolean; /** The end of the process's output. */ readonly output?: string };

/** A message from a running trial to the coordinator. */
export type TrialMessage =
  | { readonly kind: 'started'; readonly trialId: string; readonly attempt: number; readonly worker: string }
  | { readonly kind: 'event'; readonly trialId: string; readonly attempt: number; readonly event: TrainingEvent };

/** One trial handed to an executor. */
export interface TrialExecution {
  /** Asks the trial to stop (pruned); it stops at its next event. */
  stop(order: StopOrder): void;
  /** Settles when the trial's process is done with it. */
  readonly done: Promise<ExecutionOutcome>;
}

/** What a sweep opens an executor with. */
export interface ExecutorContext {
  readonly sweepId: string;
  readonly dir: string;
  /** The trial function (in-process) or the module exporting `trial` (child processes, workers). */
  readonly trial: TrialFunction | string;
  readonly onMessage: (message: TrialMessage) => void;
}

/** Runs trials: in this process, in child processes, or as jobs on other machines. */
export interface Executor {
  readonly name: string;
  open(context: ExecutorContext): Promise<ExecutorSession>;
}

/** An open executor. */
export interface ExecutorSession {
  run(spec: TrialSpec): TrialExecution;
  /**
   * Resuming a sweep: where a trial the log left unfinished stands in the executor
   * (`unknown`: start it again). Executors without state across sweeps return `unknown`.
   */
  recover?(spec: TrialSpec): Promise<TrialExecution | undefined>;
  close(): Promise<void>;
}

/** What a trial reached, folded from its events. */
export interface TrialResult {
  readonly reason: 'completed' | 'stopped' | 'pruned' | 'failed';
  /** Epochs that ended. */
  readonly epochs: number;
  /** The best value of the sweep's metric, and the epoch it came at. */
  readonly best?: number;
  readonly bestEpoch?: number;
  readonly lastLogs?: Logs;
  readonly prunedAt?: { readonly epoch: number; readonly rung?: number; readonly milestone?: number };
}
