import { type Decider, type Decision, type MonitorDirection } from '@rxfit/core';
import { isImprovement, type MonitorSettings } from '@rxfit/core/operator-kit';

/** Why early stopping asks the run to stop. */
export type StopCause = 'patience' | 'stoppingThreshold' | 'divergenceThreshold' | 'nonFinite';

/** The resolved, validated settings the decider decides with. */
export interface EarlyStoppingConfig {
  /** The monitor as checked against each run's keys. */
  readonly settings: MonitorSettings;
  /** The log key watched at each `epochEnd`. */
  readonly monitor: string;
  /** The direction, already resolved from `mode`. */
  readonly direction: MonitorDirection;
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
  /** Monitored epochs since the last improvement that also beat the baseline. */
  readonly wait: number;
  /** The best monitored value so far; `undefined` before the first monitored epoch. */
  readonly best: number | undefined;
  /** The epoch of {@link EarlyStoppingState.best}. */
  readonly bestEpoch: number | undefined;
  /** The epoch at which this decider first decided to stop (later stops of a what-if fold do not move it). */
  readonly stoppedEpoch: number | undefined;
  /** Whether the missing-monitor warning was given in this run. */
  readonly warnedMissing: boolean;
}

/** What the operator should do after an event. */
export type EarlyStoppingCommand =
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

type Step = Decision<EarlyStoppingState, EarlyStoppingCommand>;

const INITIAL_STATE: EarlyStoppingState = {
  wait: 0,
  best: undefined,
  bestEpoch: undefined,
  stoppedEpoch: undefined,
  warnedMissing: false,
};

/**
 * Keras' `EarlyStopping` (with Lightning's thresholds and finite check) as a {@link Decider}: at
 * each `epochEnd` it counts, compares and says whether to stop; at `trainEnding`, whether to put
 * the best weights back. Pure: no clock, no I/O, no tensors. The operator `earlyStopping` is this
 * decider folded over the run with core's `decisionFold`.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { earlyStoppingDeciderOf } from './decider.js';
 * const fold = decisionFold(earlyStoppingDeciderOf(config));
 * ```
 * @param config - The resolved settings.
 * @returns The decider.
 */
export function earlyStoppingDeciderOf(
  config: EarlyStoppingConfig,
): Decider<EarlyStoppingState, EarlyStoppingCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide(state, event) {
      switch (event.type) {
        case 'epochEnd':
          return onEpochEnd(config, state, event.epoch, event.logs);
        case 'trainEnding':
          return {
            state,
            commands: config.restoreBestWeights ? [{ kind: 'restoreBestWeights' }] : [],
          };
        default:
          return { state, commands: [] };
      }
    },
  };
}

function onEpochEnd(
  config: EarlyStoppingConfig,
  state: EarlyStoppingState,
  epoch: number,
  logs: Readonly<Record<string, number>>,
): Step {
  const value = logs[config.monitor];
  if (typeof value !== 'number') {
    if (state.warnedMissing) return { state, commands: [] };
    const message =
      `Early stopping conditioned on metric '${config.monitor}' which is not available. ` +
      `Available metrics are: ${Object.keys(logs).join(',')}`;
    return {
      state: { ...state, warnedMissing: true },
      commands: [{ kind: 'warnMissingMonitor', message }],
    };
  }
  if (epoch < config.startFromEpoch) return { state, commands: [] };

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
  const commands: EarlyStoppingCommand[] = [{ kind: 'monitored', epoch, value, improved }];
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
  if (cause === undefined) return { state: next, commands };

  commands.push({
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
  // The first stop is where the run stopped; a recorded run folded in a what-if may go on.
  return { state: { ...next, stoppedEpoch: next.stoppedEpoch ?? epoch }, commands };
}

function describeBest(best: number | undefined, bestEpoch: number | undefined): string {
  if (best === undefined || bestEpoch === undefined) return 'none yet';
  // Epoch indexes count from 0 like the events; "index" keeps them apart from Keras' 1-based "Epoch N".
  return `${Number(best.toPrecision(5))} at epoch index ${bestEpoch}`;
}
