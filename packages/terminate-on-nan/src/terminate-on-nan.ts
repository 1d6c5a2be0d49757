import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, decisionFold, type Decider, type TrainingEvent } from '@rxfit/core';
import { checkBoolean, checkOptions, failRun } from '@rxfit/core/operator-kit';
import {
  terminateOnNaNDeciderOf,
  type NonFiniteLoss,
  type TerminateOnNaNCommand,
  type TerminateOnNaNConfig,
  type TerminateOnNaNState,
} from './decider.js';

/** The name the operator gives in `stopRequested.by`. */
export const TERMINATE_ON_NAN = 'terminateOnNaN';

/** Options of {@link terminateOnNaN}. */
export interface TerminateOnNaNOptions {
  /**
   * `false`: stop the run gracefully after the bad batch (the epoch ends, `trainEnd` says
   * `stopped`). `true`: fail the run with a {@link NonFiniteLossError}. @default false
   */
  readonly raiseError?: boolean;
}

/**
 * The error a run fails with when `raiseError` is set; `fit` wraps it as the `cause` of its
 * `TrainingError`.
 *
 * ## Example
 * ```ts
 * import { NonFiniteLossError } from '@rxfit/terminate-on-nan';
 * run$.subscribe({ error: (e) => { if (e.cause instanceof NonFiniteLossError) console.log(e.cause.batch); } });
 * ```
 */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  /** The epoch of the bad batch. */
  readonly epoch: number;
  /** The bad batch, counted from 0 within its epoch. */
  readonly batch: number;
  /** The loss: NaN, Infinity or -Infinity. */
  readonly loss: number;

  /**
   * @param message - What happened.
   * @param where - The epoch, batch and loss.
   */
  constructor(message: string, where: NonFiniteLoss) {
    super(message);
    this.epoch = where.epoch;
    this.batch = where.batch;
    this.loss = where.loss;
  }
}

/**
 * Keras' `TerminateOnNaN` as an operator: when a batch's `loss` is NaN or ±Infinity, stops the
 * run after that batch, or fails it with `raiseError`.
 *
 * The stop is a `stopRequested` event with `by: 'terminateOnNaN'`, a reason naming the epoch and
 * batch, and `details` `{ epoch, batch, loss }`; the epoch still ends, then `trainEnd` says
 * `stopped`. With `raiseError`, the failure goes through the loop (`defer` of a rejection), so
 * the loop emits `trainEnd {reason: 'failed'}`, lets go of the model and then errors the stream.
 * Replayed events cause nothing.
 *
 * ## Example
 * ```ts
 * import { fit } from '@rxfit/core';
 * import { terminateOnNaN } from '@rxfit/terminate-on-nan';
 * const run$ = fit(model, data, { epochs: 20 }).pipe(terminateOnNaN());
 * ```
 * @param options - See {@link TerminateOnNaNOptions}.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError at call time for bad options.
 */
export function terminateOnNaN(
  options: TerminateOnNaNOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  const owner = TERMINATE_ON_NAN;
  const config = terminateOnNaNConfig(options);
  return (source) =>
    defer(() => {
      const fold = decisionFold(terminateOnNaNDeciderOf(config));
      return source.pipe(
        tap((event) => {
          const commands = fold.next(event);
          const run = controlOf(event, TERMINATE_ON_NAN);
          if (!run) return;
          for (const decision of commands) {
            if (decision.kind === 'stop') {
              run.stop(decision.reason, { by: owner, details: decision.details });
            } else {
              // Failing through the loop instead of throwing here: a throw would error the stream
              // while the loop still holds the model, and it would end without a trainEnd event.
              failRun(run, new NonFiniteLossError(`${owner}: ${decision.message}`, decision.details));
            }
          }
        }),
      );
    });
}

/**
 * TerminateOnNaN's decision alone, for what-ifs over recorded runs: the same pure fold the
 * operator runs (core's `Decider` contract).
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { terminateOnNaNDecider } from '@rxfit/terminate-on-nan';
 * const fold = decisionFold(terminateOnNaNDecider());
 * for (const event of recordedEvents) fold.next(event);
 * console.log(fold.state.tripped); // the first batch whose loss went bad, if any
 * ```
 * @param options - See {@link TerminateOnNaNOptions}.
 * @returns The decider: `initialState()`, `decide(state, event)`.
 * @throws TypeError for bad options, as {@link terminateOnNaN}.
 */
export function terminateOnNaNDecider(
  options: TerminateOnNaNOptions = {},
): Decider<TerminateOnNaNState, TerminateOnNaNCommand> {
  return terminateOnNaNDeciderOf(terminateOnNaNConfig(options));
}

function terminateOnNaNConfig(options: TerminateOnNaNOptions): TerminateOnNaNConfig {
  checkOptions(TERMINATE_ON_NAN, options, ['raiseError']);
  const { raiseError = false } = options;
  checkBoolean(TERMINATE_ON_NAN, 'raiseError', raiseError);
  return { raiseError };
}
