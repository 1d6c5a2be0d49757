import type { TrainingEvent } from '@rxfit/core';

/** The resolved settings the reducer decides with. */
export interface TerminateOnNaNConfig {
  /** Fail the run instead of stopping it. */
  readonly raiseError: boolean;
}

/**
 * Where the loss first went bad: the `details` of the stop and the fields of the error. (A type
 * alias, not an interface, so it fits the `Record` of `stopRequested.details`.)
 */
export type NonFiniteLoss = {
  readonly epoch: number;
  readonly batch: number;
  readonly loss: number;
};

/** The state of one run; plain data, rebuilt by folding events (live or replayed). */
export interface TerminateOnNaNState {
  readonly config: TerminateOnNaNConfig;
  /** The run this state belongs to; a `trainBegin` of another run resets the state. */
  readonly runId: string | undefined;
  /** The first batch whose loss was NaN or ±Infinity in this run. */
  readonly tripped: NonFiniteLoss | undefined;
}

/** What the operator should do after an event. */
export type TerminateOnNaNDecision =
  /** End the run gracefully after this batch. */
  | { readonly kind: 'stop'; readonly reason: string; readonly details: NonFiniteLoss }
  /** Fail the run with an error. */
  | { readonly kind: 'fail'; readonly message: string; readonly details: NonFiniteLoss };

/** The result of {@link reduce}: the next state and what to do. */
export interface TerminateOnNaNStep {
  readonly state: TerminateOnNaNState;
  readonly decisions: readonly TerminateOnNaNDecision[];
}

/**
 * The state before any event: no bad loss seen.
 *
 * ## Example
 * ```ts
 * import { initialState } from '@rxfit/terminate-on-nan';
 * const state = initialState({ raiseError: false });
 * ```
 * @param config - The resolved settings.
 * @returns A fresh state.
 */
export function initialState(config: TerminateOnNaNConfig): TerminateOnNaNState {
  return { config, runId: undefined, tripped: undefined };
}

/**
 * One step of Keras' `TerminateOnNaN`: at each `batchEnd`, a `loss` that is NaN or ±Infinity
 * asks to stop (or fail) the run, once per run. Pure: no clock, no I/O.
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/terminate-on-nan';
 * const { decisions } = reduce(initialState({ raiseError: false }), batchEndEvent);
 * ```
 * @param state - The state so far.
 * @param event - The next event of the run (live or replayed).
 * @returns The next state and the decisions it implies.
 */
export function reduce(state: TerminateOnNaNState, event: TrainingEvent): TerminateOnNaNStep {
  if (event.type === 'trainBegin') {
    // A trainBegin of the same run is a resumed run following its replayed log.
    if (state.runId === event.runId) return { state, decisions: [] };
    return { state: { ...initialState(state.config), runId: event.runId }, decisions: [] };
  }
  if (event.type !== 'batchEnd' || state.tripped) return { state, decisions: [] };
  const loss = event.logs['loss'];
  // Keras checks only `loss`, and only when the logs have one.
  if (typeof loss !== 'number' || Number.isFinite(loss)) return { state, decisions: [] };
  const { epoch, batch } = event;
  const details: NonFiniteLoss = { epoch, batch, loss };
  const decision: TerminateOnNaNDecision = state.config.raiseError
    ? {
        kind: 'fail',
        message: `NaN or Inf loss encountered at epoch ${epoch}, batch ${batch}. Loss value: ${loss}. Terminating training immediately.`,
        details,
      }
    : {
        kind: 'stop',
        reason: `Epoch ${epoch}, batch ${batch}: invalid loss ${loss}, terminating training`,
        details,
      };
  return { state: { ...state, tripped: details }, decisions: [decision] };
}
