import { type Decider, type Decision, type Logs, type MonitorDirection } from '@rxfit/core';
import { isImprovement } from '@rxfit/core/operator-kit';

/** The settings the decision depends on (validated options). */
export interface CheckpointConfig {
  readonly monitor: string;
  readonly direction: MonitorDirection;
  readonly saveBestOnly: boolean;
  /** `'epoch'`, or a number of batches counted across epochs. */
  readonly saveFreq: 'epoch' | number;
  readonly initialValueThreshold: number | undefined;
}

/** What the decision remembers between events (Keras' `best`, `_batches_seen_since_last_saving`, `_last_batch_seen`). */
export interface CheckpointState {
  /** The best monitored value so far; starts at `initialValueThreshold`, else ±Infinity. */
  readonly best: number;
  readonly batchesSinceSave: number;
  readonly lastBatchSeen: number;
}

/** The decider's one command: a point where Keras would format the path and consider saving. */
export interface SavePoint {
  readonly epoch: number;
  /** The batch for `saveFreq: N`; `undefined` at an epoch end. */
  readonly batch: number | undefined;
  readonly logs: Logs;
  /** Whether to write the checkpoint (false: `saveBestOnly` and no improvement). */
  readonly save: boolean;
  /** The monitored value, when the logs hold it. */
  readonly value: number | undefined;
  /** The best value before this point (for messages). */
  readonly previousBest: number;
  /** Set when `saveBestOnly` could not compare: the monitor is missing (Keras saves anyway). */
  readonly warning: string | undefined;
}

type Step = Decision<CheckpointState, SavePoint>;

/**
 * ModelCheckpoint's decision as a {@link Decider}: folds each event and says whether it is a save
 * point and whether to save, as Keras' `ModelCheckpoint`. Pure: no I/O. Replayed events go through
 * the same fold, so a resumed run keeps its best value and batch count.
 *
 * ## Example
 * ```ts
 * const decider = checkpointDeciderOf(config);
 * const { commands } = decider.decide(decider.initialState(), event);
 * ```
 * @param config - The validated settings.
 * @returns The decider.
 */
export function checkpointDeciderOf(config: CheckpointConfig): Decider<CheckpointState, SavePoint> {
  const initial: CheckpointState = {
    best: config.initialValueThreshold ?? (config.direction === 'min' ? Infinity : -Infinity),
    batchesSinceSave: 0,
    lastBatchSeen: 0,
  };
  return {
    initialState: () => initial,
    // Keras sets `best` and the batch counts in __init__, not in on_train_begin: they carry
    // over to the next run folded by the same operator.
    nextRun: (previous) => previous,
    decide(state, event) {
      if (event.type === 'batchEnd' && config.saveFreq !== 'epoch') {
        // Keras counts batches across epochs: a batch index not above the last one starts a new epoch.
        const added =
          event.batch <= state.lastBatchSeen ? event.batch + 1 : event.batch - state.lastBatchSeen;
        const seen = state.batchesSinceSave + added;
        if (seen < config.saveFreq) {
          return {
            state: { ...state, batchesSinceSave: seen, lastBatchSeen: event.batch },
            commands: [],
          };
        }
        return decide(
          config,
          { ...state, batchesSinceSave: 0, lastBatchSeen: event.batch },
          event.epoch,
          event.batch,
          event.logs,
        );
      }
      if (event.type === 'epochEnd' && config.saveFreq === 'epoch') {
        return decide(config, state, event.epoch, undefined, event.logs);
      }
      return { state, commands: [] };
    },
  };
}

function decide(
  config: CheckpointConfig,
  state: CheckpointState,
  epoch: number,
  batch: number | undefined,
  logs: Logs,
): Step {
  const { monitor, saveBestOnly, direction } = config;
  const value = typeof logs[monitor] === 'number' ? logs[monitor] : undefined;
  const base = { epoch, batch, logs, value, previousBest: state.best };
  if (!saveBestOnly) return savePoint(state, { ...base, save: true, warning: undefined });
  if (value === undefined) {
    const available = Object.keys(logs).join(', ');
    return savePoint(state, {
      ...base,
      save: true,
      warning: `Can save best model only with ${monitor} available (available: ${available}); saving anyway, as Keras does.`,
    });
  }
  // Strict comparison without a margin, as Keras' monitor_op (NaN never improves).
  const improved = isImprovement(direction, 0, value, state.best);
  if (!improved) return savePoint(state, { ...base, save: false, warning: undefined });
  return savePoint({ ...state, best: value }, { ...base, save: true, warning: undefined });
}

function savePoint(state: CheckpointState, point: SavePoint): Step {
  return { state, commands: [point] };
}
