import type { Decider, Logs } from '@rxfit/core';
import type { PlotHistoryData } from './history-spec.js';

/** What the plot knows of a run: each epoch's logs, and the metrics already warned about. */
export interface PlotState {
  /** Epoch logs by epoch (a rerun epoch replaces the earlier one). */
  readonly epochs: ReadonlyMap<number, Logs>;
  /** Metrics reported missing already: each is warned about once. */
  readonly warned: readonly string[];
}

/** What the plot must do after an event. */
export type PlotCommand =
  /** A metric asked for is not in the epoch logs (live runs only: said once per metric). */
  | { readonly type: 'warn'; readonly message: string }
  /** `epoch`: an epoch ended (render a live run); `end`: the run ended (render a replay). */
  | { readonly type: 'render'; readonly when: 'epoch' | 'end' };

const INITIAL_STATE: PlotState = { epochs: new Map(), warned: [] };

/**
 * The plot's fold as a {@link Decider}: each epoch's logs, and when to render. Pure: no I/O, no clock.
 *
 * ## Example
 * ```ts
 * const fold = decisionFold(plotDeciderOf(['loss', 'acc']));
 * for (const command of fold.next(event)) if (command.type === 'render') render(historyOf(fold.state));
 * ```
 * @param metrics - The metrics asked for, or `undefined` for all (nothing is then reported missing).
 * @returns The decider.
 * @internal
 */
export function plotDeciderOf(
  metrics: readonly string[] | undefined,
): Decider<PlotState, PlotCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide(state, event) {
      switch (event.type) {
        case 'trainBegin': {
          // A resumed run starts at initialEpoch: epochs from there on will run again.
          const epochs = new Map(
            [...state.epochs].filter(([epoch]) => epoch < event.params.initialEpoch),
          );
          return { state: { ...state, epochs }, commands: [] };
        }
        case 'epochEnd': {
          const epochs = new Map(state.epochs).set(event.epoch, event.logs);
          const missing = (metrics ?? []).filter(
            (metric) =>
              !state.warned.includes(metric) &&
              !(metric in event.logs) &&
              !(`val_${metric}` in event.logs),
          );
          const warnings = missing.map((metric): PlotCommand => ({
            type: 'warn',
            message: `metric '${metric}' is not in the epoch logs (available: ${Object.keys(event.logs).join(', ')}); its panel is skipped while it has no values`,
          }));
          return {
            state: { epochs, warned: [...state.warned, ...missing] },
            commands: [...warnings, { type: 'render', when: 'epoch' }],
          };
        }
        case 'trainEnd':
          return { state, commands: [{ type: 'render', when: 'end' }] };
        default:
          return { state, commands: [] };
      }
    },
  };
}

/**
 * The state as Keras' `History`: epochs in order, a value per epoch for every key (NaN where absent).
 *
 * ## Example
 * ```ts
 * historySpec(historyOf(state), ['loss']);
 * ```
 * @param state - The plot's state.
 * @returns Epochs and values.
 * @internal
 */
export function historyOf(state: PlotState): PlotHistoryData {
  const epochs = [...state.epochs.keys()].sort((a, b) => a - b);
  const keys = new Set<string>();
  for (const logs of state.epochs.values()) for (const key of Object.keys(logs)) keys.add(key);
  // fromEntries and hasOwn: a log key named `__proto__` or `constructor` is a plain key.
  const history: Record<string, number[]> = Object.fromEntries(
    [...keys].map((key) => [
      key,
      epochs.map((epoch) => {
        const logs = state.epochs.get(epoch);
        return logs !== undefined && Object.hasOwn(logs, key) ? logs[key]! : Number.NaN;
      }),
    ]),
  );
  return { epoch: epochs, history };
}
