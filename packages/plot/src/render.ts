import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@rxfit/core/operator-kit';
import { dirname } from 'node:path';
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
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
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
export async function svgToPng(svg: string, scale: number): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
}

/**
 * Writes a plot file atomically (core's `writeFileAtomic`), creating its folder first.
 *
 * ## Example
 * ```ts
 * await writePlotFile('plots/history.svg', svg);
 * ```
 * @param path - The file to replace; missing folders are created.
 * @param data - The new content.
 * @throws the file system's error.
 * @internal
 */
export async function writePlotFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}
