import type { LayersModel } from '@tensorflow/tfjs';
import type { TrainingEvent } from './events.js';

/** Options of a command given through {@link RunControl}. */
export interface CommandOptions {
  /** Who gives the command (an operator's name), recorded in the event. @default 'user' */
  readonly by?: string;
}

/** Options of {@link RunControl.stop}. */
export interface StopOptions extends CommandOptions {
  /** Facts behind the decision, recorded in the `stopRequested` event. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The commands a live event gives access to. Every command is recorded as an event, so the
 * stream stays a complete record of the run.
 */
export interface RunControl {
  /** The run's id, as in every event. */
  readonly runId: string;
  /** The model being trained; absent in a {@link scriptedRun}. */
  readonly model: LayersModel | undefined;
  /** The learning rate in force now. */
  readonly learningRate: number;
  /** Whether a stop was requested already (by anyone). */
  readonly stopping: boolean;
  /**
   * Ends the run after the current batch: emits `stopRequested` once (the first request wins),
   * finishes the epoch as Keras does, then `trainEnd` with reason `stopped`.
   */
  stop(reason: string, options?: StopOptions): void;
  /**
   * Sets the optimizer's learning rate before the next step; emits `learningRateChanged`.
   * @throws RangeError when `lr` is not a finite number ≥ 0.
   */
  setLearningRate(lr: number, options?: CommandOptions): void;
  /** Appends a `custom` event with the next `seq`, seen by every operator. */
  emit(name: string, data: unknown): void;
  /**
   * Records that a checkpoint was written: appends a `checkpointSaved` event. Call it when the
   * file is complete (after the rename), from the deferred work that wrote it.
   */
  checkpointSaved(saved: { readonly path: string; readonly monitor?: string; readonly value?: number }): void;
  /** Appends a `custom` {@link WARNING_EVENT} event. */
  warn(message: string, options?: CommandOptions): void;
  /**
   * The loop waits for `work` before the next step and before completing: side effects such
   * as a checkpoint finish before the weights change again. A rejection fails the run.
   */
  defer(work: Promise<unknown>): void;
}

/**
 * The key under which a live event carries its run's control. `Symbol.for` makes it the same
 * key in every copy of `@rxfit/core` an app may hold, and an enumerable symbol property is
 * copied by object spread (`map((e) => ({ ...e }))`) while JSON and logs never see it.
 */
const CONTROL_KEY = Symbol.for('@rxfit/core/run-control');

/**
 * What a live event carries: the run's control, and the engine's answer to "is this event being
 * delivered right now?" (commands given for an event that arrives after an async hop would
 * act on a step the loop has already passed).
 */
export interface ControlLink {
  readonly control: RunControl;
  /**
   * Where the event with this `seq` stands: `delivering` while the loop delivers it
   * (synchronously), `late` when it arrives after the loop moved on, `over` once the run ended.
   */
  readonly status: (seq: number) => 'delivering' | 'late' | 'over';
  /** Marks the warning event with this `seq` as shown to a person by a logger. */
  readonly reportWarning: (seq: number) => void;
}

/** Thrown when a live event reaches a control-using operator without a usable control. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
}

/**
 * The control of the run a live event belongs to; `undefined` for replayed events
 * (`replayed: true`), which carry no control: operators fold them into their state and
 * perform no side effects.
 *
 * The control survives an operator that copies the event (`{ ...event }`) and a second copy of
 * `@rxfit/core` in the app. Call it while the event is delivered (in the operator's `next`),
 * and keep the control for later work: an event that arrives after an async hop (`delay`,
 * `observeOn`, `debounceTime`) is refused, since the loop has moved on. To pass a finished
 * run's events through operators again, mark them `replayed: true`.
 *
 * ## Example
 * ```ts
 * import { controlOf } from '@rxfit/core';
 * tap((e) => { if (e.type === 'epochEnd' && e.logs.loss < 0.1) controlOf(e)?.stop('loss < 0.1'); });
 * ```
 * @param event - An event from a live run or a replay.
 * @param owner - The operator asking, named in errors. @default 'controlOf'
 * @returns The run's control, or `undefined` for a replayed event.
 * @throws ControlError when a live event has lost its control (rebuilt by an operator, or read
 * back from JSON without `replayed: true`), or arrives after an async hop.
 */
export function controlOf(event: TrainingEvent, owner = 'controlOf'): RunControl | undefined {
  if (event.replayed === true) return undefined;
  const link = linkOf(event);
  const where = `event ${String(event.seq)} (${event.type}) of run ${event.runId}`;
  if (!link) {
    throw new ControlError(
      `${owner}: ${where} is live (it has no replayed: true) but carries no run control, so ${owner} ` +
        'cannot stop, save or change the learning rate. An operator before it rebuilt the event ' +
        '(structuredClone, a JSON round trip, or an object made by hand): pass events on as they are ' +
        'or copy them with spread ({ ...event }), which keeps the control. Events read back from a ' +
        'log must carry replayed: true (readEventLog does this).',
    );
  }
  const status = link.status(event.seq);
  if (status === 'over') {
    throw new ControlError(
      `${owner}: ${where} arrived after its run had ended: an asynchronous operator before it ` +
        '(delay, observeOn, a Promise or timer in the pipe) delivered it too late for any command. ' +
        `Put ${owner} before any asynchronous operator in the pipe. To pass a finished run's events ` +
        'through operators again, mark them as history: map((e) => ({ ...e, replayed: true })).',
    );
  }
  if (status === 'late') {
    throw new ControlError(
      `${owner}: ${where} arrived after the loop had moved on: an asynchronous operator before it ` +
        '(delay, observeOn, debounceTime, a Promise or timer in the pipe) delivered it late, when its ' +
        `commands could no longer act on the step it belongs to. Put ${owner} before any asynchronous ` +
        'operator in the pipe.',
    );
  }
  return link.control;
}

/**
 * The one way an operator fails a run: a live run through its control (`defer` of a rejection),
 * so the loop emits `trainEnd {reason: 'failed'}` and errors with a `TrainingError` that every
 * sink sees; a replay, which has no loop to fail, by throwing. A thrown value that is not an
 * `Error` becomes one.
 *
 * ## Example
 * ```ts
 * import { failRun } from '@rxfit/core/operator-kit';
 * tap((e) => { if (e.type === 'trainBegin' && bad) failRun(controlOf(e, 'mine'), new RangeError('mine: ...')); });
 * ```
 * @param control - The live run's control, or `undefined` for a replayed event.
 * @param error - Why the run fails.
 * @throws the error, when there is no control.
 */
export function failRun(control: RunControl | undefined, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  if (!control) throw failure;
  control.defer(Promise.reject(failure));
}

/**
 * Tells the run that a logger showed this warning event to a person, so the run does not print
 * it to stderr as well. Loggers (progress bar, pino, your own) call it for each warning they show.
 *
 * ## Example
 * ```ts
 * import { reportWarning, warningOf } from '@rxfit/core';
 * tap((e) => { const w = warningOf(e); if (w) { console.warn(w.message); reportWarning(e); } });
 * ```
 * @param event - A warning event (others are ignored).
 */
export function reportWarning(event: TrainingEvent): void {
  linkOf(event)?.reportWarning(event.seq);
}

/** The link a live event carries, if any (any copy of core). */
function linkOf(event: TrainingEvent): ControlLink | undefined {
  return (event as unknown as Record<symbol, ControlLink | undefined>)[CONTROL_KEY];
}

/** A live event's body with its control link attached (the engine calls this before freezing). */
export function withControl<T extends object>(event: T, link: ControlLink): T {
  return Object.assign(event, { [CONTROL_KEY]: link });
}
