import { type Logs, type MonitorDirection, type TrainingEvent } from '@rxfit/core';
import { isImprovement } from '@rxfit/core/operator-kit';

/** Whether the monitored value improves downwards or upwards. */
export type Direction = MonitorDirection;

/** The settings the decision depends on (validated options). */
export interface CheckpointConfig {
  readonly monitor: string;
  readonly direction: Direction;
  readonly saveBestOnly: boolean;
  /** `'epoch'`, or a number of batches counted across epochs. */
  readonly saveFreq: 'epoch' | number;
  readonly initialValueThreshold: number | undefined;
}

/** What the decision remembers between events (Keras' `best`, `_batches_seen_since_last_saving`, `_last_batch_seen`). */
export interface CheckpointState {
  readonly config: CheckpointConfig;
  /** The best monitored value so far; starts at `initialValueThreshold`, else ±Infinity. */
  readonly best: number;
  readonly batchesSinceSave: number;
  readonly lastBatchSeen: number;
}

/** A point where Keras would format the path and consider saving. */
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

/** The outcome of one event. */
export interface CheckpointStep {
  readonly state: CheckpointState;
  /** Present when the event is a save point. */
  readonly point: SavePoint | undefined;
}


/**
 * The state before any event.
 *
 * ## Example
 * ```ts
 * import { initialState } from '@rxfit/checkpoint';
 * const state = initialState({ monitor: 'val_loss', direction: 'min', saveBestOnly: true, saveFreq: 'epoch', initialValueThreshold: undefined });
 * ```
 * @param config - The validated settings.
 * @returns The initial state.
 */
export function initialState(config: CheckpointConfig): CheckpointState {
  const best = config.initialValueThreshold ?? (config.direction === 'min' ? Infinity : -Infinity);
  return { config, best, batchesSinceSave: 0, lastBatchSeen: 0 };
}

/**
 * Folds one event into the state and says whether it is a save point and whether to save, as
 * Keras' `ModelCheckpoint` (`_should_save_on_batch`, `_should_save_model`). Pure: no I/O.
 * Replayed events go through the same fold, so a resumed run keeps its best value and batch count.
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/checkpoint';
 * const { state, point } = reduce(initialState(config), event);
 * if (point?.save) console.log('save at epoch', point.epoch);
 * ```
 * @param state - The state so far.
 * @param event - The next event.
 * @returns The next state and the save point, if any.
 */
export function reduce(state: CheckpointState, event: TrainingEvent): CheckpointStep {
  const { config } = state;
  if (event.type === 'batchEnd' && config.saveFreq !== 'epoch') {
    // Keras counts batches across epochs: a batch index not above the last one starts a new epoch.
    const added =
      event.batch <= state.lastBatchSeen ? event.batch + 1 : event.batch - state.lastBatchSeen;
    const seen = state.batchesSinceSave + added;
    if (seen < config.saveFreq) {
      return {
        state: { ...state, batchesSinceSave: seen, lastBatchSeen: event.batch },
        point: undefined,
      };
    }
    return decide(
      { ...state, batchesSinceSave: 0, lastBatchSeen: event.batch },
      event.epoch,
      event.batch,
      event.logs,
    );
  }
  if (event.type === 'epochEnd' && config.saveFreq === 'epoch') {
    return decide(state, event.epoch, undefined, event.logs);
  }
  return { state, point: undefined };
}

function decide(
  state: CheckpointState,
  epoch: number,
  batch: number | undefined,
  logs: Logs,
): CheckpointStep {
  const { monitor, saveBestOnly, direction } = state.config;
  const value = typeof logs[monitor] === 'number' ? logs[monitor] : undefined;
  const base = { epoch, batch, logs, value, previousBest: state.best };
  if (!saveBestOnly) return { state, point: { ...base, save: true, warning: undefined } };
  if (value === undefined) {
    const available = Object.keys(logs).join(', ');
    return {
      state,
      point: {
        ...base,
        save: true,
        warning: `Can save best model only with ${monitor} available (available: ${available}); saving anyway, as Keras does.`,
      },
    };
  }
  // Strict comparison without a margin, as Keras' monitor_op (NaN never improves).
  const improved = isImprovement(direction, 0, value, state.best);
  if (!improved) return { state, point: { ...base, save: false, warning: undefined } };
  return { state: { ...state, best: value }, point: { ...base, save: true, warning: undefined } };
}
