import { type MonitorDirection, type TrainingEvent } from '@rxfit/core';
import { isImprovement, type MonitorSettings } from '@rxfit/core/operator-kit';

/** Whether the monitored value improves downwards or upwards. */
export type Direction = MonitorDirection;

/** Why early stopping asks the run to stop. */
export type StopCause = 'patience' | 'stoppingThreshold' | 'divergenceThreshold' | 'nonFinite';

/** The resolved, validated settings the reducer decides with. */
export interface EarlyStoppingConfig {
  /** The monitor as checked against each run's keys. */
  readonly settings: MonitorSettings;
  /** The log key watched at each `epochEnd`. */
  readonly monitor: string;
  /** The direction, already resolved from `mode`. */
  readonly direction: Direction;
  /** The smallest change that counts as an improvement; ≥ 0 (Keras stores `abs(min_delta)`). */
  readonly minDelta: number;
  /** Monitored epochs without improvement after which the run stops. */
  readonly patience: number;
  /** A value that an improvement must also beat to reset the wait counter. */
  readonly baseline: number | undefined;
  /** Epochs before this one are ignored entirely. */
  readonly startFromEpoch: number;
  /** Stop as soon as the monitor is strictly better than this. */
  readonly stoppingThreshold: number | undefined;
  /** Stop as soon as the monitor is strictly worse than this. */
  readonly divergenceThreshold: number | undefined;
  /** Stop when the monitor is NaN or ±Infinity. */
  readonly checkFinite: boolean;
  /** Whether the run's end restores the best epoch's weights. */
  readonly restoreBestWeights: boolean;
}

/** The state of one run; plain data, rebuilt by folding events (live or replayed). */
export interface EarlyStoppingState {
  readonly config: EarlyStoppingConfig;
  /** The run this state belongs to; a `trainBegin` of another run resets the state. */
  readonly runId: string | undefined;
  /** Monitored epochs since the last improvement that also beat the baseline. */
  readonly wait: number;
  /** The best monitored value so far; `undefined` before the first monitored epoch. */
  readonly best: number | undefined;
  /** The epoch of {@link EarlyStoppingState.best}. */
  readonly bestEpoch: number | undefined;
  /** The epoch at which this reducer decided to stop. */
  readonly stoppedEpoch: number | undefined;
  /** Whether the missing-monitor warning was given in this run. */
  readonly warnedMissing: boolean;
}

/** What the operator should do after an event. */
export type EarlyStoppingDecision =
  /** The monitor is absent from the epoch logs: warn (once per run). */
  | { readonly kind: 'warnMissingMonitor'; readonly message: string }
  /** The epoch was monitored; `improved` marks a new best, whose weights are worth keeping. */
  | {
      readonly kind: 'monitored';
      readonly epoch: number;
      readonly value: number;
      readonly improved: boolean;
    }
  /** Ask the run to stop. */
  | {
      readonly kind: 'stop';
      readonly cause: StopCause;
      readonly reason: string;
      readonly details: Readonly<Record<string, unknown>>;
    }
  /** The run ended normally (completed or stopped): put the best weights back. */
  | { readonly kind: 'restoreBestWeights' };

/** The result of {@link reduce}: the next state and what to do. */
export interface EarlyStoppingStep {
  readonly state: EarlyStoppingState;
  readonly decisions: readonly EarlyStoppingDecision[];
}

/**
 * The state before any event: nothing monitored yet.
 *
 * ## Example
 * ```ts
 * import { earlyStoppingConfig, initialState } from '@rxfit/early-stopping';
 * const state = initialState(earlyStoppingConfig({ monitor: 'loss', patience: 1 }));
 * ```
 * @param config - The resolved settings.
 * @returns A fresh state.
 */
export function initialState(config: EarlyStoppingConfig): EarlyStoppingState {
  return {
    config,
    runId: undefined,
    wait: 0,
    best: undefined,
    bestEpoch: undefined,
    stoppedEpoch: undefined,
    warnedMissing: false,
  };
}

/**
 * One step of Keras' `EarlyStopping` (with Lightning's thresholds and finite check): folds an
 * event into the state and says what to do. Pure: no clock, no I/O, no tensors.
 *
 * ## Example
 * ```ts
 * import { earlyStoppingConfig, initialState, reduce } from '@rxfit/early-stopping';
 * // What-if: where would patience 10 have stopped this recorded run?
 * let state = initialState(earlyStoppingConfig({ patience: 10 }));
 * for (const event of recordedEvents) state = reduce(state, event).state;
 * console.log(state.stoppedEpoch);
 * ```
 * @param state - The state so far.
 * @param event - The next event of the run (live or replayed).
 * @returns The next state and the decisions it implies.
 */
export function reduce(state: EarlyStoppingState, event: TrainingEvent): EarlyStoppingStep {
  switch (event.type) {
    case 'trainBegin':
      // Keras resets in on_train_begin so one instance serves several fits. A trainBegin of the
      // same run is a resumed run following its replayed log: the counters carry on.
      if (state.runId === event.runId) return { state, decisions: [] };
      return { state: { ...initialState(state.config), runId: event.runId }, decisions: [] };
    case 'epochEnd':
      return onEpochEnd(state, event.epoch, event.logs);
    case 'trainEnding':
      return {
        state,
        decisions:
          state.config.restoreBestWeights
            ? [{ kind: 'restoreBestWeights' }]
            : [],
      };
    default:
      return { state, decisions: [] };
  }
}

function onEpochEnd(
  state: EarlyStoppingState,
  epoch: number,
  logs: Readonly<Record<string, number>>,
): EarlyStoppingStep {
  const { config } = state;
  const value = logs[config.monitor];
  if (typeof value !== 'number') {
    if (state.warnedMissing) return { state, decisions: [] };
    const message =
      `Early stopping conditioned on metric '${config.monitor}' which is not available. ` +
      `Available metrics are: ${Object.keys(logs).join(',')}`;
    return {
      state: { ...state, warnedMissing: true },
      decisions: [{ kind: 'warnMissingMonitor', message }],
    };
  }
  if (epoch < config.startFromEpoch) return { state, decisions: [] };

  const { direction, minDelta, baseline } = config;
  const finite = Number.isFinite(value);
  // Keras counts first, then resets on improvement. A non-finite value is never an
  // improvement (Keras would take a first NaN as best and never improve again).
  let wait = state.wait + 1;
  let { best, bestEpoch } = state;
  const improved = finite && isImprovement(direction, minDelta, value, best);
  if (improved) {
    best = value;
    bestEpoch = epoch;
    // Only a value that also beats the baseline restarts the count (Keras 3).
    if (baseline === undefined || isImprovement(direction, minDelta, value, baseline)) wait = 0;
  }
  const decisions: EarlyStoppingDecision[] = [{ kind: 'monitored', epoch, value, improved }];
  const next: EarlyStoppingState = { ...state, wait, best, bestEpoch };

  const better = (a: number, b: number) => (direction === 'min' ? a < b : a > b);
  const { monitor } = config;
  let cause: StopCause | undefined;
  let reason = '';
  let threshold: number | undefined;
  if (!finite && config.checkFinite) {
    cause = 'nonFinite';
    reason = `${monitor} = ${value} is not finite (best ${describeBest(best, bestEpoch)})`;
  } else if (config.stoppingThreshold !== undefined && better(value, config.stoppingThreshold)) {
    cause = 'stoppingThreshold';
    threshold = config.stoppingThreshold;
    reason = `${monitor} = ${value} reached stoppingThreshold ${threshold}`;
  } else if (
    config.divergenceThreshold !== undefined &&
    better(config.divergenceThreshold, value)
  ) {
    cause = 'divergenceThreshold';
    threshold = config.divergenceThreshold;
    reason = `${monitor} = ${value} is worse than divergenceThreshold ${threshold}`;
  } else if (!improved && wait >= config.patience && epoch > 0) {
    // Keras' `epoch > 0` guard: patience never stops the very first epoch.
    cause = 'patience';
    reason =
      baseline !== undefined &&
      (best === undefined || !isImprovement(direction, minDelta, best, baseline))
        ? `${monitor} did not beat the baseline ${baseline} in ${wait} epochs (patience ${config.patience}; best ${describeBest(best, bestEpoch)})`
        : `${monitor} did not improve for ${wait} epochs (patience ${config.patience}; best ${describeBest(best, bestEpoch)})`;
  }
  if (cause === undefined) return { state: next, decisions };

  decisions.push({
    kind: 'stop',
    cause,
    // The event already carries the epoch; the progress bar prefixes it (1-based, as Keras).
    reason: `early stopping: ${reason}`,
    details: {
      cause,
      monitor,
      value,
      best: best ?? null,
      bestEpoch: bestEpoch ?? null,
      patience: config.patience,
      wait,
      ...(baseline === undefined ? {} : { baseline }),
      ...(threshold === undefined ? {} : { threshold }),
    },
  });
  return { state: { ...next, stoppedEpoch: epoch }, decisions };
}

function describeBest(best: number | undefined, bestEpoch: number | undefined): string {
  if (best === undefined || bestEpoch === undefined) return 'none yet';
  // Epoch indexes count from 0 like the events; "index" keeps them apart from Keras' 1-based "Epoch N".
  return `${Number(best.toPrecision(5))} at epoch index ${bestEpoch}`;
}

