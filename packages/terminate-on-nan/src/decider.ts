import type { Decider } from '@rxfit/core';

/** The resolved settings the decider decides with. */
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
  /** The first batch whose loss was NaN or ±Infinity in this run. */
  readonly tripped: NonFiniteLoss | undefined;
}

/** What the operator should do after an event. */
export type TerminateOnNaNCommand =
  /** End the run gracefully after this batch. */
  | { readonly kind: 'stop'; readonly reason: string; readonly details: NonFiniteLoss }
  /** Fail the run with an error. */
  | { readonly kind: 'fail'; readonly message: string; readonly details: NonFiniteLoss };

const INITIAL_STATE: TerminateOnNaNState = { tripped: undefined };

/**
 * Keras' `TerminateOnNaN` as a {@link Decider}: at each `batchEnd`, a `loss` that is NaN or
 * ±Infinity asks to stop (or fail) the run, once per run. Pure: no clock, no I/O.
 *
 * ## Example
 * ```ts
 * const decider = terminateOnNaNDeciderOf({ raiseError: false });
 * const { commands } = decider.decide(decider.initialState(), batchEndEvent);
 * ```
 * @param config - The resolved settings.
 * @returns The decider.
 */
export function terminateOnNaNDeciderOf(
  config: TerminateOnNaNConfig,
): Decider<TerminateOnNaNState, TerminateOnNaNCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide(state, event) {
      if (event.type !== 'batchEnd' || state.tripped) return { state, commands: [] };
      const loss = event.logs['loss'];
      // Keras checks only `loss`, and only when the logs have one.
      if (typeof loss !== 'number' || Number.isFinite(loss)) return { state, commands: [] };
      const { epoch, batch } = event;
      const details: NonFiniteLoss = { epoch, batch, loss };
      const command: TerminateOnNaNCommand = config.raiseError
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
      return { state: { tripped: details }, commands: [command] };
    },
  };
}
