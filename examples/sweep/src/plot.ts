import { writeChart, type ChartSpec } from '@rxfit/plot';
import type { SweepEvent } from '@rxfit/sweep';

/**
 * Writes `<file>.svg` and `<file>.png`: the metric per epoch, one line per trial (a pruned trial's
 * line ends where ASHA stopped it), rendered with @rxfit/plot's writeChart.
 *
 * @param events - The sweep's events (live, with `trialEvent`s).
 * @param metric - The log key to plot.
 * @param file - The path without extension.
 * @returns The two files written.
 */
export async function plotSweep(events: readonly SweepEvent[], metric: string, file: string): Promise<string[]> {
  const labels = new Map<string, string>();
  const pruned = new Set<string>();
  for (const e of events) {
    if (e.type === 'trialStarted') {
      labels.set(e.trialId, `${e.trialId.replace('trial-', '#')} ${Object.entries(e.params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
    }
    if (e.type === 'trialPruned') pruned.add(e.trialId);
  }
  const rows = new Map<string, { trial: string; epoch: number; value: number; pruned: boolean }>();
  for (const e of events) {
    if (e.type !== 'trialEvent' || e.event.type !== 'epochEnd') continue;
    const value = e.event.logs[metric];
    if (value === undefined) continue;
    rows.set(`${e.trialId}/${String(e.event.epoch)}`, { trial: labels.get(e.trialId) ?? e.trialId, epoch: e.event.epoch + 1, value, pruned: pruned.has(e.trialId) });
  }
  const spec: ChartSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${metric} per epoch (ASHA-pruned trials dashed)`,
    width: 520,
    height: 300,
    background: 'white',
    data: { values: [...rows.values()] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'trial', type: 'nominal', title: 'trial', legend: { labelLimit: 400 } },
      strokeDash: { field: 'pruned', type: 'nominal', title: 'pruned' },
    },
  };
  return writeChart(spec, file, { pngScale: 2, owner: 'plotSweep' });
}
