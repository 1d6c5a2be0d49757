import type { Logs, TrainingEvent } from '@rxfit/core';

/** One row of the log: an epoch and its logs. */
export interface CsvRow {
  readonly epoch: number;
  readonly logs: Logs;
}

/** What the CSV logger knows about the run so far. */
export interface CsvLoggerState {
  /** The `val_*` keys the run announced in `trainBegin` (Keras adds their columns up front). */
  readonly valKeys: readonly string[];
  /** The log keys of the header after `epoch`, fixed at the first `epochEnd`. */
  readonly keys: readonly string[] | undefined;
  /** The run of the replayed events seen last: its live continuation is a resume. */
  readonly replayedRunId: string | undefined;
  /** The rows the replayed run wrote, in order. */
  readonly replayedRows: readonly CsvRow[];
}

/** What the operator must do after an event; only live events give decisions. */
export type CsvLoggerDecision =
  | {
      /** A run begins: open the file fresh (truncate), for appending, or to resume the replayed run. */
      readonly type: 'open';
      readonly resume: boolean;
      /** With `resume`: the rows the interrupted run wrote, which the file must end with. */
      readonly rows: readonly CsvRow[];
      /** With `resume`: the header keys the interrupted run chose, if it got to an epoch end. */
      readonly keys: readonly string[] | undefined;
    }
  | { readonly type: 'write'; readonly row: CsvRow; readonly keys: readonly string[] };

/** The result of {@link reduce}. */
export interface CsvLoggerStep {
  readonly state: CsvLoggerState;
  readonly decision: CsvLoggerDecision | undefined;
}

/**
 * The state before any event.
 *
 * ## Example
 * ```ts
 * import { initialState } from '@rxfit/csv-logger';
 * initialState().keys; // undefined until the first epoch ends
 * ```
 * @returns A fresh state.
 */
export function initialState(): CsvLoggerState {
  return { valKeys: [], keys: undefined, replayedRunId: undefined, replayedRows: [] };
}

/**
 * Keras' header rule: the first epoch's log keys sorted, then any `val_*` key the run announced
 * that the first epoch lacks (Keras' `model.metrics_names` check), so later validation has a column.
 *
 * ## Example
 * ```ts
 * import { headerKeys } from '@rxfit/csv-logger';
 * headerKeys({ loss: 1, lr: 0.1, acc: 0.5 }, ['val_loss']); // ['acc', 'loss', 'lr', 'val_loss']
 * ```
 * @param logs - The first epoch's logs.
 * @param valKeys - The `val_*` keys announced by `trainBegin`.
 * @returns The header keys after `epoch`.
 */
export function headerKeys(logs: Logs, valKeys: readonly string[]): string[] {
  // Default sort compares UTF-16 code units, as Python's sorted() compares code points for these names.
  const keys = Object.keys(logs).sort();
  for (const key of valKeys) if (!keys.includes(key)) keys.push(key);
  return keys;
}

/**
 * Folds one event into the state and says what to write. Replayed events only rebuild the state
 * (the header keys and the rows already written); a live `trainBegin` of the replayed run is a
 * resume, any other `trainBegin` starts afresh (Keras' `on_train_begin`).
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/csv-logger';
 * const { state, decision } = reduce(initialState(), event);
 * if (decision?.type === 'write') console.log(decision.keys, decision.row);
 * ```
 * @param state - The state before the event.
 * @param event - Any training event, live or replayed.
 * @returns The next state and the decision, if any.
 */
export function reduce(state: CsvLoggerState, event: TrainingEvent): CsvLoggerStep {
  const replayed = event.replayed === true;
  if (event.type === 'trainBegin') {
    const valKeys = event.params.metrics.filter((key) => key.startsWith('val_'));
    if (replayed) {
      // A log resumed before holds one trainBegin per start of the same run: continue it.
      if (state.replayedRunId === event.runId) return { state, decision: undefined };
      return {
        state: { ...initialState(), valKeys, replayedRunId: event.runId },
        decision: undefined,
      };
    }
    if (state.replayedRunId === event.runId) {
      return {
        state: { ...state, replayedRunId: undefined, replayedRows: [] },
        decision: { type: 'open', resume: true, rows: state.replayedRows, keys: state.keys },
      };
    }
    return {
      state: { ...initialState(), valKeys },
      decision: { type: 'open', resume: false, rows: [], keys: undefined },
    };
  }
  if (event.type !== 'epochEnd') return { state, decision: undefined };
  const keys = state.keys ?? headerKeys(event.logs, state.valKeys);
  const row: CsvRow = { epoch: event.epoch, logs: event.logs };
  if (replayed) {
    const sameRun = state.replayedRunId === event.runId;
    return {
      state: {
        ...state,
        keys,
        replayedRunId: event.runId,
        replayedRows: sameRun ? [...state.replayedRows, row] : [row],
      },
      decision: undefined,
    };
  }
  return { state: { ...state, keys }, decision: { type: 'write', row, keys } };
}
