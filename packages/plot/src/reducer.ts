import type { Logs, TrainingEvent } from '@rxfit/core';
import type { PlotHistoryData } from './history-spec.js';

/** What the plot knows of a run: each epoch's logs, and the metrics already warned about. */
export interface PlotState {
  /** Epoch logs by epoch (a rerun epoch replaces the earlier one). */
  readonly epochs: ReadonlyMap<number, Logs>;
  /** Metrics reported missing already: each is warned about once. */
  readonly warned: readonly string[];
}

/** What to do after an event. */
export interface PlotStep {
  readonly state: PlotState;
  /** `epoch`: an epoch ended (render a live run); `end`: the run ended (render a replay). */
  readonly render: 'epoch' | 'end' | undefined;
  /** Warnings to emit (live runs only). */
  readonly warnings: readonly string[];
}

/**
 * The state before the first event.
 *
 * ## Example
 * ```ts
 * let state = initialState(); // internal to @rxfit/plot's plotHistory
 * ```
 * @returns An empty history.
 * @internal
 */
export function initialState(): PlotState {
  return { epochs: new Map(), warned: [] };
}

/**
 * Folds one event into the history to plot. Pure: no I/O, no clock.
 *
 * ## Example
 * ```ts
 * const step = reduce(state, event, ['loss', 'acc']);
 * if (step.render === 'epoch') render(historyOf(step.state));
 * ```
 * @param state - The state before the event.
 * @param event - The event.
 * @param metrics - The metrics asked for, or `undefined` for all (nothing is then reported missing).
 * @returns The next state, whether to render, and warnings to emit.
 * @internal
 */
export function reduce(
  state: PlotState,
  event: TrainingEvent,
  metrics: readonly string[] | undefined,
): PlotStep {
  switch (event.type) {
    case 'trainBegin': {
      // A resumed run starts at initialEpoch: epochs from there on will run again.
      const epochs = new Map(
        [...state.epochs].filter(([epoch]) => epoch < event.params.initialEpoch),
      );
      return { state: { ...state, epochs }, render: undefined, warnings: [] };
    }
    case 'epochEnd': {
      const epochs = new Map(state.epochs).set(event.epoch, event.logs);
      const missing = (metrics ?? []).filter(
        (metric) =>
          !state.warned.includes(metric) &&
          !(metric in event.logs) &&
          !(`val_${metric}` in event.logs),
      );
      const warnings = missing.map(
        (metric) =>
          `metric '${metric}' is not in the epoch logs (available: ${Object.keys(event.logs).join(', ')}); its panel is skipped while it has no values`,
      );
      return {
        state: { epochs, warned: [...state.warned, ...missing] },
        render: 'epoch',
        warnings,
      };
    }
    case 'trainEnd':
      return { state, render: 'end', warnings: [] };
    default:
      return { state, render: undefined, warnings: [] };
  }
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
