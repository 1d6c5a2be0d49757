import { controlOf, decisionFold, type TrainingEvent } from '@rxfit/core';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOptions,
  effectQueue,
  failRun,
  prepareFileTarget,
} from '@rxfit/core/operator-kit';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { historySpec, plottableMetrics, type PlotHistoryData } from './history-spec.js';
import { historyOf, plotDeciderOf } from './decider.js';
import { writeChart } from './render.js';

/** A file format {@link plotHistory} writes. */
export type PlotFormat = 'svg' | 'png';

/** Options of {@link plotHistory}. */
export interface PlotHistoryOptions {
  /** The path without extension: `plots/run` writes `plots/run.svg` and `plots/run.png` (a `.svg`/`.png` ending is dropped). */
  readonly file: string;
  /** The metrics to plot, one panel each with `m` and `val_m`. @default every logged metric but `val_*` and `lr` */
  readonly metrics?: readonly string[];
  /** The files to write. @default ['svg', 'png'] */
  readonly formats?: readonly PlotFormat[];
  /** Width of each panel's plot area, in px. @default 360 */
  readonly width?: number;
  /** Height of each panel's plot area, in px. @default 240 */
  readonly height?: number;
  /** Pixels per SVG px in the PNG (2 for hi-dpi screens). @default 1 */
  readonly pngScale?: number;
  /** A title above the panels. @default none */
  readonly title?: string;
  /** Render a replayed run once, at its `trainEnd` (live runs render at every epoch end regardless). @default false */
  readonly replay?: boolean;
}

/**
 * Plots training and validation curves (Keras' `History`) as SVG and PNG after every epoch.
 *
 * Each render is handed to the loop (`control.defer`), chained on the previous one so files are
 * written in epoch order, and each file is replaced atomically (temporary file + rename). A metric
 * absent from the logs is warned about once and skipped. Events pass through unchanged.
 *
 * ## Example
 * ```ts
 * import { plotHistory } from '@rxfit/plot';
 * await lastValueFrom(fit(model, data, { epochs: 20, validationSplit: 0.2 }).pipe(
 *   plotHistory({ file: 'plots/history', metrics: ['loss', 'acc'] }),
 * )); // plots/history.svg and plots/history.png, redrawn at each epoch end
 * ```
 * @param options - See {@link PlotHistoryOptions}.
 * @returns An operator that writes the plot and passes every event through.
 * @throws TypeError when `file` is not a non-empty string or `metrics` not an array of strings;
 *   RangeError for a bad format, size or scale.
 */
export function plotHistory(options: PlotHistoryOptions): MonoTypeOperatorFunction<TrainingEvent> {
  const settings = checkPlotOptions(options);

  return (source) =>
    new Observable<TrainingEvent>((subscriber) => {
      const fold = decisionFold(plotDeciderOf(settings.metrics));
      // Every render waits for the previous one: files are written in epoch order.
      const effects = effectQueue('plotHistory');

      const subscription = source.subscribe({
        next: (event) => {
          const commands = fold.next(event);
          const state = fold.state;
          const control = controlOf(event, 'plotHistory');
          if (control && event.type === 'trainBegin') {
            // Before the first batch: the folder exists (created) and no link or folder is in the way.
            try {
              for (const format of settings.formats) prepareFileTarget('plotHistory', `${settings.base}.${format}`, { kind: 'file' });
            } catch (error) {
              failRun(control, error);
            }
          }
          for (const command of commands) {
            if (command.type === 'warn') {
              control?.warn(command.message, { by: 'plotHistory' });
              continue;
            }
            const live = control !== undefined && command.when === 'epoch';
            const replayEnd = control === undefined && command.when === 'end' && settings.replay;
            if (!live && !replayEnd) continue;
            const history = historyOf(state);
            if (plottableMetrics(history, settings.metrics).length === 0) continue;
            // A replay has no loop to defer to: completion waits for its render instead.
            effects.run(control, () => render(history, settings));
          }
          subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          effects.idle().then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
      });
      return () => subscription.unsubscribe();
    });
}

interface Settings {
  readonly base: string;
  readonly metrics: readonly string[] | undefined;
  readonly formats: readonly PlotFormat[];
  readonly width: number;
  readonly height: number;
  readonly pngScale: number;
  readonly title: string | undefined;
  readonly replay: boolean;
}

async function render(history: PlotHistoryData, settings: Settings): Promise<void> {
  const spec = historySpec(history, settings.metrics, {
    width: settings.width,
    height: settings.height,
    ...(settings.title === undefined ? {} : { title: settings.title }),
  });
  // The file targets are checked again at every render: a replay (`replay: true`) has no trainBegin check.
  await writeChart(spec, settings.base, { formats: settings.formats, pngScale: settings.pngScale, owner: 'plotHistory' });
}

function checkPlotOptions(options: PlotHistoryOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `plotHistory: options must be an object with a file, got ${String(options)}`,
    );
  }
  checkOptions('plotHistory', options, ['file', 'metrics', 'formats', 'width', 'height', 'pngScale', 'title', 'replay']);
  const {
    file,
    metrics,
    formats = ['svg', 'png'],
    width = 360,
    height = 240,
    pngScale = 1,
    replay = false,
  } = options;
  if (typeof file !== 'string' || file === '') {
    throw new TypeError(`plotHistory: file must be a non-empty path, got ${JSON.stringify(file)}`);
  }
  if (
    metrics !== undefined &&
    (!Array.isArray(metrics) || !metrics.every((m) => typeof m === 'string' && m !== ''))
  ) {
    throw new TypeError(
      `plotHistory: metrics must be an array of metric names, got ${JSON.stringify(metrics)}`,
    );
  }
  if (metrics?.length === 0)
    throw new RangeError('plotHistory: metrics must name at least one metric, got []');
  if (
    !Array.isArray(formats) ||
    formats.length === 0 ||
    !formats.every((f) => f === 'svg' || f === 'png')
  ) {
    throw new RangeError(
      `plotHistory: formats must be a non-empty array of 'svg', 'png', got ${JSON.stringify(formats)}`,
    );
  }
  checkInteger('plotHistory', 'width', width, 1);
  checkInteger('plotHistory', 'height', height, 1);
  checkNumber('plotHistory', 'pngScale', pngScale, { min: 0.1, max: 10 });
  checkBoolean('plotHistory', 'replay', replay);
  if (options.title !== undefined && typeof options.title !== 'string') {
    throw new TypeError(
      `plotHistory: title must be a string, got ${JSON.stringify(options.title)}`,
    );
  }
  return {
    base: file.replace(/\.(svg|png)$/i, ''),
    metrics,
    formats: [...new Set(formats)],
    width,
    height,
    pngScale,
    title: options.title,
    replay,
  };
}
