import { writeChart, type ChartSpec } from '@rxfit/plot';
import type { SuggestionMethod, Suggestions } from './suggest.js';

const formatRate = (lr: number): string =>
  lr < 1e-3 ? lr.toExponential(1) : String(Number(lr.toPrecision(3)));

/** What {@link sweepSpec} plots. */
export interface SweepPlotData {
  readonly learningRates: readonly number[];
  readonly losses: readonly number[];
  readonly suggestions: Suggestions;
}

/**
 * The Vega-Lite spec of a sweep, as Lightning and fastai plot it: the smoothed loss against the
 * learning rate on a log axis, with one marked point per suggestion rule.
 *
 * ## Example
 * ```ts
 * import { sweepSpec } from '@rxfit/lr-finder';
 * const spec = sweepSpec(result); // render with vega-lite's compile and vega's View
 * ```
 * @param data - The sweep's learning rates, smoothed losses and suggestions.
 * @param options - The plot area's size in px.
 * @returns A Vega-Lite spec.
 */
export function sweepSpec(
  data: SweepPlotData,
  options: { width?: number; height?: number } = {},
): ChartSpec {
  const { width = 480, height = 300 } = options;
  const curve = data.learningRates
    .map((lr, i) => ({ lr, loss: data.losses[i]! }))
    .filter((point) => Number.isFinite(point.loss) && point.lr > 0);
  const marks = (
    Object.entries(data.suggestions) as [SuggestionMethod, Suggestions[SuggestionMethod]][]
  )
    .filter(
      ([, suggestion]) =>
        suggestion !== undefined && Number.isFinite(data.losses[suggestion.index]),
    )
    .map(([method, suggestion]) => ({
      lr: data.learningRates[suggestion!.index]!,
      loss: data.losses[suggestion!.index]!,
      suggestion: `${method}: ${formatRate(suggestion!.learningRate)}`,
    }));
  const x = {
    field: 'lr',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'learning rate',
  } as const;
  const y = {
    field: 'loss',
    type: 'quantitative',
    scale: { zero: false },
    title: 'smoothed loss',
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Learning-rate range test',
    width,
    height,
    background: 'white',
    layer: [
      { data: { values: curve }, mark: { type: 'line', color: '#4c78a8' }, encoding: { x, y } },
      {
        data: { values: marks },
        mark: { type: 'point', filled: true, size: 90 },
        encoding: { x, y, color: { field: 'suggestion', type: 'nominal', title: 'suggestion' } },
      },
    ],
  };
}

/**
 * Renders a sweep's plot with `@rxfit/plot`'s `writeChart` and writes `<file>.svg` and
 * `<file>.png`, each atomically.
 * @param file - The path without extension; missing folders are created.
 * @param data - The sweep.
 * @returns The paths written.
 */
export async function writeSweepPlot(
  file: string,
  data: SweepPlotData,
): Promise<{ svg: string; png: string }> {
  const base = file.replace(/\.(svg|png)$/i, '');
  const [svg, png] = await writeChart(sweepSpec(data), base, { formats: ['svg', 'png'], owner: 'lrFinder' });
  return { svg: svg!, png: png! };
}
