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

const controls = new WeakMap<TrainingEvent, RunControl>();

/**
 * The control of the run a live event belongs to; `undefined` for replayed events, which carry
 * no control: operators fold them into their state and perform no side effects.
 *
 * ## Example
 * ```ts
 * import { controlOf } from '@rxfit/core';
 * tap((e) => { if (e.type === 'epochEnd' && e.logs.loss < 0.1) controlOf(e)?.stop('loss < 0.1'); });
 * ```
 * @param event - An event from a live run or a replay.
 * @returns The run's control, or `undefined`.
 */
export function controlOf(event: TrainingEvent): RunControl | undefined {
  return controls.get(event);
}

/** Attaches a control to a live event (the loops call this; not exported from the package). */
export function attachControl(event: TrainingEvent, control: RunControl): void {
  controls.set(event, control);
}
