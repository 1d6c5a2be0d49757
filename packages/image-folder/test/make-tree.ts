// Test helper: writes image trees with sharp into a fresh temporary folder.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** A w×h RGB image whose pixels encode (seed, x, y) so that every image differs. */
export function pattern(
  width: number,
  height: number,
  seed: number,
  channels: 1 | 3 | 4 = 3,
): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++)
        data[o + c] = (seed * 37 + x * 11 + y * 7 + c * 53 + ((x * y) % 13)) & 0xff;
      if (channels === 4) data[o + 3] = 128 + ((x + y + seed) % 128);
    }
  }
  return data;
}

export async function encode(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff',
): Promise<Buffer> {
  let img = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  switch (format) {
    case 'png':
      return img.png().toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return img.webp({ lossless: true }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff({ compression: 'lzw' }).toBuffer();
  }
}

export interface TreeFile {
  /** Path relative to the root, e.g. `cats/cat.1.png`. */
  readonly path: string;
  /** Image content (generated PNG by default) or raw bytes. */
  readonly bytes?: Uint8Array;
  readonly width?: number;
  readonly height?: number;
  readonly seed?: number;
  readonly format?: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff';
}

export interface Tree {
  readonly root: string;
  cleanup(): Promise<void>;
}

export async function makeTree(
  files: readonly (TreeFile | string)[],
  dirs: readonly string[] = [],
): Promise<Tree> {
  const root = await mkdtemp(join(tmpdir(), 'rxfit-image-folder-'));
  for (const d of dirs) await mkdir(join(root, d), { recursive: true });
  let n = 0;
  for (const entry of files) {
    const f: TreeFile = typeof entry === 'string' ? { path: entry } : entry;
    const full = join(root, f.path);
    await mkdir(dirname(full), { recursive: true });
    const w = f.width ?? 10;
    const h = f.height ?? 8;
    const bytes =
      f.bytes ?? (await encode(pattern(w, h, f.seed ?? n++), w, h, 3, f.format ?? 'png'));
    await writeFile(full, bytes);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** `count` PNGs per class: `<class>/<class>.<i>.png`, each with a distinct pattern. */
export function classFiles(
  classes: Record<string, number>,
  size = { width: 10, height: 8 },
): TreeFile[] {
  const out: TreeFile[] = [];
  let seed = 0;
  for (const [name, count] of Object.entries(classes)) {
    for (let i = 0; i < count; i++)
      out.push({ path: `${name}/${name}.${i}.png`, seed: seed++, ...size });
  }
  return out;
}
