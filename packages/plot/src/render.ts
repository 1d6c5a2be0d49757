import { prepareFileTarget, writeFileAtomic } from '@rxfit/core/operator-kit';
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Renders a Vega-Lite spec to SVG headless: the `none` renderer builds the scenegraph without a
 * canvas or a browser (text widths are estimated when node-canvas is absent, which is enough
 * for axis labels and titles).
 *
 * ## Example
 * ```ts
 * const svg = await renderSvg(historySpec(history, ['loss'])); // internal to @rxfit/plot
 * ```
 * @param spec - A Vega-Lite spec.
 * @returns The SVG document.
 * @internal
 */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterises an SVG with sharp (librsvg); `scale` 2 doubles the pixel size for hi-dpi screens.
 *
 * ## Example
 * ```ts
 * const png = await svgToPng(svg, 1);
 * ```
 * @param svg - An SVG document.
 * @param scale - PNG pixels per SVG px.
 * @returns The PNG bytes.
 * @internal
 */
async function svgToPng(svg: string, scale: number): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
}

/** A Vega-Lite spec, as {@link writeChart} renders it. */
export type ChartSpec = TopLevelSpec;

/** Options of {@link writeChart}. */
export interface WriteChartOptions {
  /** The files to write, `<base>.<format>` each. @default ['svg', 'png'] */
  readonly formats?: readonly ('svg' | 'png')[];
  /** PNG pixels per SVG px. @default 1 */
  readonly pngScale?: number;
  /** Named in errors (`plotHistory: could not write ...`). @default 'writeChart' */
  readonly owner?: string;
}

/**
 * Renders a Vega-Lite spec headless once and writes it as `<base>.svg` and/or `<base>.png`, each
 * atomically, through core's file-target rule (its folder created; a link or a folder at the
 * path refused). The one renderer of rxfit's charts: history curves, the learning-rate sweep,
 * a sweep's trials.
 *
 * ## Example
 * ```ts
 * import { writeChart } from '@rxfit/plot';
 * await writeChart({ data: { values }, mark: 'line', encoding }, 'plots/loss', { formats: ['svg'] });
 * ```
 * @param spec - A Vega-Lite spec.
 * @param base - The path without extension.
 * @param options - See {@link WriteChartOptions}.
 * @returns The paths written, in `formats` order.
 * @throws Error naming the owner and the file that could not be written.
 */
export async function writeChart(spec: ChartSpec, base: string, options: WriteChartOptions = {}): Promise<string[]> {
  const { formats = ['svg', 'png'], pngScale = 1, owner = 'writeChart' } = options;
  const svg = await renderSvg(spec);
  const paths: string[] = [];
  for (const format of formats) {
    const path = `${base}.${format}`;
    prepareFileTarget(owner, path, { kind: 'file' });
    try {
      await writeFileAtomic(path, format === 'svg' ? svg : await svgToPng(svg, pngScale));
    } catch (error) {
      throw new Error(`${owner}: could not write ${path}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    paths.push(path);
  }
  return paths;
}
