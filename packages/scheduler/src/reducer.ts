import { type MonitorDirection, type TrainingEvent } from '@rxfit/core';
import { isImprovement } from '@rxfit/core/operator-kit';

/** Whether the monitored value improves downwards or upwards. */
export type Direction = MonitorDirection;

/** The resolved settings of `reduceLROnPlateau`, the reducer's fixed input. */
export interface PlateauConfig {
  readonly monitor: string;
  readonly direction: Direction;
  readonly factor: number;
  readonly patience: number;
  /** Always ≥ 0 (Keras stores `abs(min_delta)`). */
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
}

/** ReduceLROnPlateau's state: Keras' `best`, `wait` and `cooldown_counter`, plus bookkeeping. */
export interface PlateauState {
  /** The best monitored value so far; `undefined` before the first one (Keras' `None`). */
  readonly best: number | undefined;
  /** Epochs without improvement outside cooldown. */
  readonly wait: number;
  /** Epochs of cooldown left. */
  readonly cooldownCounter: number;
  /** Whether the missing-monitor warning was given in this run. */
  readonly warned: boolean;
  /** The run of the replayed events seen last: its live continuation keeps this state. */
  readonly replayedRunId: string | undefined;
}

/** What the operator must do after an event. */
export type PlateauDecision =
  | { readonly type: 'reduce'; readonly from: number; readonly to: number }
  | { readonly type: 'warn'; readonly message: string };

/** The result of {@link reduce}. */
export interface PlateauStep {
  readonly state: PlateauState;
  readonly decision: PlateauDecision | undefined;
}

/**
 * The state before a run, as Keras' `_reset()`.
 *
 * ## Example
 * ```ts
 * import { initialState } from '@rxfit/scheduler';
 * initialState(); // { best: undefined, wait: 0, cooldownCounter: 0, ... }
 * ```
 * @returns A fresh state.
 */
export function initialState(): PlateauState {
  return { best: undefined, wait: 0, cooldownCounter: 0, warned: false, replayedRunId: undefined };
}

/**
 * Keras' `ReduceLROnPlateau.on_epoch_end` as a pure step: folds one event into the state and
 * says whether to reduce the rate (or warn). Keras keeps rates in float32, so the rate is read as
 * float32, compared with `float32(minLr)` and the new rate is rounded to float32.
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/scheduler';
 * const { state, decision } = reduce(initialState(), event, config, 0.1);
 * if (decision?.type === 'reduce') control.setLearningRate(decision.to);
 * ```
 * @param state - The state before the event.
 * @param event - Any training event (live or replayed).
 * @param config - The resolved settings.
 * @param learningRate - The rate in force now; defaults to the epoch's logged `lr` (replay).
 * @returns The next state and the decision, if any.
 */
export function reduce(
  state: PlateauState,
  event: TrainingEvent,
  config: PlateauConfig,
  learningRate?: number,
): PlateauStep {
  if (event.type === 'trainBegin') {
    // A run that continues the replayed one (a resume, live or itself replayed from a log that
    // was resumed before) keeps the state rebuilt so far; any other run starts afresh, as Keras'
    // on_train_begin.
    const continues = state.replayedRunId === event.runId;
    const next = continues ? { ...state, replayedRunId: undefined } : initialState();
    return {
      state: event.replayed ? { ...next, replayedRunId: event.runId } : next,
      decision: undefined,
    };
  }
  if (event.type !== 'epochEnd') {
    return { state: trackReplay(state, event), decision: undefined };
  }
  const tracked = trackReplay(state, event);
  const raw = event.logs[config.monitor] as unknown;
  if (raw === undefined) {
    if (tracked.warned) return { state: tracked, decision: undefined };
    return {
      state: { ...tracked, warned: true },
      decision: {
        type: 'warn',
        message:
          `Learning rate reduction is conditioned on metric \`${config.monitor}\` which is not available. ` +
          `Available metrics are: ${Object.keys(event.logs).join(',')}.`,
      },
    };
  }
  // A NaN read back from JSON is null: it must count as no improvement, as the live NaN did.
  const current = typeof raw === 'number' ? raw : Number.NaN;
  let { best, wait, cooldownCounter } = tracked;
  if (cooldownCounter > 0) {
    cooldownCounter -= 1;
    wait = 0;
  }
  let decision: PlateauDecision | undefined;
  if (isImprovement(config.direction, config.minDelta, current, best)) {
    best = current;
    wait = 0;
  } else if (cooldownCounter <= 0) {
    wait += 1;
    if (wait >= config.patience) {
      // Replayed epochs carry the rate that was in force as `lr`; without it, assume the
      // reduction happened (the rate was above the floor), which is what restarts cooldown.
      const logged = event.logs['lr'] as unknown;
      const lr = learningRate ?? (typeof logged === 'number' ? logged : Number.POSITIVE_INFINITY);
      const oldLr = Math.fround(lr);
      if (oldLr > Math.fround(config.minLr)) {
        const newLr = Math.fround(Math.max(oldLr * config.factor, config.minLr));
        if (Number.isFinite(oldLr)) decision = { type: 'reduce', from: oldLr, to: newLr };
        cooldownCounter = config.cooldown;
        wait = 0;
      }
    }
  }
  return { state: { ...tracked, best, wait, cooldownCounter }, decision };
}


function trackReplay(state: PlateauState, event: TrainingEvent): PlateauState {
  const replayedRunId = event.replayed ? event.runId : undefined;
  return state.replayedRunId === replayedRunId ? state : { ...state, replayedRunId };
}

