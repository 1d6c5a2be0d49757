import type { Decider, Logs } from '@rxfit/core';
import { headerKeys } from './format.js';

/** One row of the log: an epoch and its logs. */
export interface CsvRow {
  readonly epoch: number;
  readonly logs: Logs;
}

/** What the CSV logger knows about the run so far. */
export interface CsvLoggerState {
  /** Whether replayed events of this run were seen: its live `trainBegin` is then a resume. */
  readonly replayed: boolean;
  /** The `val_*` keys the run announced in `trainBegin` (Keras adds their columns up front). */
  readonly valKeys: readonly string[];
  /** The log keys of the header after `epoch`, fixed at the first `epochEnd`. */
  readonly keys: readonly string[] | undefined;
  /** The rows the replayed run wrote, in order. */
  readonly replayedRows: readonly CsvRow[];
}

/** What the operator must do after an event; only live events give commands. */
export type CsvLoggerCommand =
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

const INITIAL_STATE: CsvLoggerState = {
  replayed: false,
  valKeys: [],
  keys: undefined,
  replayedRows: [],
};

/**
 * The CSV logger's decision as a {@link Decider}: replayed events only rebuild the state (the
 * header keys and the rows already written); the live `trainBegin` of a run whose events were
 * replayed is a resume, any other live `trainBegin` starts afresh (Keras' `on_train_begin`); each
 * live `epochEnd` writes a row.
 *
 * ## Example
 * ```ts
 * const fold = decisionFold(csvLoggerDecider);
 * for (const command of fold.next(event)) if (command.type === 'write') console.log(command.row);
 * ```
 */
export const csvLoggerDecider: Decider<CsvLoggerState, CsvLoggerCommand> = {
  initialState: () => INITIAL_STATE,
  decide(state, event) {
    const replayed = event.replayed === true;
    if (event.type === 'trainBegin') {
      if (replayed) {
        // A log resumed before holds one trainBegin per start of the run: carry on.
        if (state.replayed) return { state, commands: [] };
        return {
          state: { ...state, replayed: true, valKeys: valKeysOf(event.params.metrics) },
          commands: [],
        };
      }
      if (state.replayed) {
        return {
          state: { ...state, replayed: false, replayedRows: [] },
          commands: [{ type: 'open', resume: true, rows: state.replayedRows, keys: state.keys }],
        };
      }
      return {
        state: { ...INITIAL_STATE, valKeys: valKeysOf(event.params.metrics) },
        commands: [{ type: 'open', resume: false, rows: [], keys: undefined }],
      };
    }
    if (event.type !== 'epochEnd') return { state, commands: [] };
    const keys = state.keys ?? headerKeys(event.logs, state.valKeys);
    const row: CsvRow = { epoch: event.epoch, logs: event.logs };
    if (replayed) {
      return {
        state: { ...state, keys, replayed: true, replayedRows: [...state.replayedRows, row] },
        commands: [],
      };
    }
    return { state: { ...state, keys }, commands: [{ type: 'write', row, keys }] };
  },
};

function valKeysOf(metrics: readonly string[]): string[] {
  return metrics.filter((key) => key.startsWith('val_'));
}
