import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
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
 * Writes a file so that readers see the old or the new content, never half of it: a temporary
 * file in the same directory (so `rename` stays on one file system), then `rename`.
 *
 * ## Example
 * ```ts
 * await writeFileAtomic('plots/history.svg', svg);
 * ```
 * @param path - The file to replace; missing folders are created.
 * @param data - The new content.
 * @throws the file system's error, after removing the temporary file.
 * @internal
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
