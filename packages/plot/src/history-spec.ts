import type { History } from '@rxfit/core';
import type { TopLevelSpec } from 'vega-lite';

/** The part of Keras' `History` a plot needs: epochs (0-based) and each key's values. */
export type PlotHistoryData = Pick<History, 'epoch' | 'history'>;

/** Layout of {@link historySpec}. */
export interface HistorySpecOptions {
  /** Width of each panel's plot area, in px. @default 360 */
  readonly width?: number;
  /** Height of each panel's plot area, in px. @default 240 */
  readonly height?: number;
  /** A title above the panels. @default none */
  readonly title?: string;
}

/** Training in blue, validation in orange, in every panel (Vega's category10, as matplotlib's). */
const SERIES_COLORS = ['#4c78a8', '#f58518'];

/**
 * The metrics a history can plot: each of `metrics` with at least one finite value in `m` or
 * `val_m`; with no `metrics`, every logged key except `val_*`, `lr` and `size`, in log order.
 *
 * ## Example
 * ```ts
 * import { plottableMetrics } from '@rxfit/plot';
 * plottableMetrics({ epoch: [0], history: { loss: [1], val_loss: [2], lr: [0.1] } }); // ['loss']
 * ```
 * @param history - Epochs and values, as `toHistory()` emits them.
 * @param metrics - The metrics asked for.
 * @returns The metrics that have data, in the order asked.
 */
export function plottableMetrics(history: PlotHistoryData, metrics?: readonly string[]): string[] {
  const keys = Object.keys(history.history);
  const wanted =
    metrics ?? keys.filter((key) => !key.startsWith('val_') && key !== 'lr' && key !== 'size');
  const hasData = (key: string) =>
    (history.history[key] ?? []).some((value) => Number.isFinite(value));
  return wanted.filter((metric) => hasData(metric) || hasData(`val_${metric}`));
}

/**
 * Builds the Vega-Lite spec of training curves: one panel per metric, `epoch` (1-based, as Keras
 * prints it) on x, one line for `m` and one for `val_m`. Non-finite values (a NaN loss) are left
 * out of the lines. Pure: the same history gives the same spec.
 *
 * ## Example
 * ```ts
 * import { historySpec } from '@rxfit/plot';
 * const history = await lastValueFrom(fit(model, data, { epochs: 10 }).pipe(toHistory()));
 * const spec = historySpec(history, ['loss', 'acc']); // render with vega-lite's compile + vega
 * ```
 * @param history - Epochs and values, as `toHistory()` emits them.
 * @param metrics - The metrics to plot (see {@link plottableMetrics}); those without data are skipped.
 * @param options - See {@link HistorySpecOptions}.
 * @returns A Vega-Lite spec (`hconcat` of one layer per metric).
 * @throws RangeError when none of the metrics has a value in the history, or a size is not a positive integer.
 */
export function historySpec(
  history: PlotHistoryData,
  metrics?: readonly string[],
  options: HistorySpecOptions = {},
): TopLevelSpec {
  const { width = 360, height = 240 } = options;
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`historySpec: ${name} must be an integer >= 1, got ${String(value)}`);
    }
  }
  const panels = plottableMetrics(history, metrics);
  if (panels.length === 0) {
    const asked = metrics ? metrics.join(', ') : 'any metric';
    throw new RangeError(
      `historySpec: no values for ${asked} in the history (keys: ${Object.keys(history.history).join(', ') || 'none'})`,
    );
  }

  const rows: {
    epoch: number;
    metric: string;
    series: string;
    value: number;
  }[] = [];
  for (const metric of panels) {
    for (const series of [metric, `val_${metric}`]) {
      const values = history.history[series] ?? [];
      values.forEach((value, i) => {
        const epoch = history.epoch[i];
        if (epoch !== undefined && Number.isFinite(value))
          rows.push({ epoch: epoch + 1, metric, series, value });
      });
    }
  }
  const lastEpoch = Math.max(1, ...rows.map((row) => row.epoch));

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    background: 'white',
    data: { values: rows },
    hconcat: panels.map((metric) => {
      const values = rows.filter((row) => row.metric === metric).map((row) => row.value);
      // One distinct value gives an empty y domain: anchor it at zero so the axis stays readable.
      const flat = Math.min(...values) === Math.max(...values);
      return {
        title: metric,
        width,
        height,
        transform: [{ filter: { field: 'metric', equal: metric } }],
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'epoch',
            type: 'quantitative',
            title: 'epoch',
            // Whole epochs only, and a single epoch still gets an axis.
            scale: { domain: [1, lastEpoch], nice: false },
            axis: { tickMinStep: 1, format: 'd' },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            title: metric,
            scale: { zero: flat },
          },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            scale: { domain: [metric, `val_${metric}`], range: SERIES_COLORS },
            legend: { orient: 'top' },
          },
        },
      };
    }),
    resolve: {
      scale: { y: 'independent', color: 'independent' },
      legend: { color: 'independent' },
    },
  };
}
