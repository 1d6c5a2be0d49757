// Throughput of @rxfit/image-folder: 500×375 JPEG → augmented 64×64 float32 batches.
// Run: node --conditions=@rxfit/source --import tsx bench/image-folder-throughput.ts
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { imageFolder, type ImageFolder, type ImageFolderOptions } from '@rxfit/image-folder';

/** What {@link main} measures and how long. */
export interface ThroughputOptions {
  /** JPEGs generated (split over two classes). @default 400 */
  readonly images?: number;
  /** Timed epochs per variant (variants alternate; the median is reported). @default 5 */
  readonly repeats?: number;
}

/** One variant's result. */
export interface VariantResult {
  readonly name: string;
  readonly imagesPerSecond: number;
  readonly cpuMsPerImage: number;
  /** Main-thread (event loop) busy time per image, ms: what the loader takes from training. */
  readonly mainMsPerImage: number;
  /** Longest main-thread event-loop stall seen while the epoch ran (ms). */
  readonly maxStallMs: number;
}

/** A 500×375 photo-like JPEG: smooth gradients, a few shapes, sensor-like noise. */
export async function photo(seed: number): Promise<Buffer> {
  const w = 500;
  const h = 375;
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const cx = rnd() * w;
  const cy = rnd() * h;
  const r = 40 + rnd() * 120;
  const base = [rnd() * 255, rnd() * 255, rnd() * 255];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      for (let c = 0; c < 3; c++) {
        const v =
          base[c]! * (0.5 + (0.5 * x) / w) +
          (inside ? 60 : 0) +
          25 * Math.sin((x + y * (c + 1)) / 17) +
          (rnd() - 0.5) * 30;
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, v));
      }
    }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 75 + (seed % 20) })
    .toBuffer();
}

async function epoch(
  data: ImageFolder,
  e: number,
  n: number,
): Promise<Omit<VariantResult, 'name'>> {
  let maxStallMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last - 5);
    last = now;
  }, 5);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let seen = 0;
  for await (const { xs, ys } of data.batches(e)) {
    seen += xs.shape[0];
    tf.dispose([xs, ys]);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  clearInterval(timer);
  if (seen !== n) throw new Error(`expected ${n} images, got ${seen}`);
  return {
    imagesPerSecond: (n / ms) * 1000,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / n,
    mainMsPerImage: elu.active / n,
    maxStallMs,
  };
}

const median = (xs: number[]): number => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Generates `images` 500×375 JPEGs in a temporary folder and measures images/s of the default
 * (Keras-exact, augmented) path against a no-augmentation baseline and other variants, run
 * alternately in one process; prints a table and the ratio.
 */
export async function main(options: ThroughputOptions = {}): Promise<VariantResult[]> {
  const n = options.images ?? 400;
  const repeats = options.repeats ?? 5;
  const root = await mkdtemp(join(tmpdir(), 'rxfit-image-folder-bench-'));
  try {
    for (const c of ['cats', 'dogs']) await mkdir(join(root, c));
    for (let i = 0; i < n; i++)
      await writeFile(join(root, i % 2 ? 'dogs' : 'cats', `${i}.jpg`), await photo(i));
    const typical = { rescale: 1 / 255, shearRange: 0.2, zoomRange: 0.2, horizontalFlip: true };
    const variants: [string, ImageFolderOptions][] = [
      ['baseline: no augmentation (rescale only)', { rescale: 1 / 255 }],
      ['default: Keras-exact + typical augmentation', typical],
      [
        'heavy augmentation (rot 40, shifts, shear 20, zoom, flips, brightness)',
        {
          ...typical,
          rotationRange: 40,
          widthShiftRange: 0.2,
          heightShiftRange: 0.2,
          shearRange: 20,
          verticalFlip: true,
          brightnessRange: [0.7, 1.3],
        },
      ],
      [
        'fastResize (libvips shrink-on-load) + typical augmentation',
        { ...typical, fastResize: true },
      ],
      ['workers: 0 (main thread) + typical augmentation', { ...typical, workers: 0 }],
    ];
    const runs = new Map<string, Omit<VariantResult, 'name'>[]>(
      variants.map(([name]) => [name, []]),
    );
    const datasets = new Map<string, ImageFolder>();
    for (const [name, o] of variants) {
      const data = await imageFolder(root, {
        targetSize: [64, 64],
        batchSize: 32,
        classMode: 'binary',
        seed: 1,
        ...o,
      });
      datasets.set(name, data);
      await epoch(data, 0, n); // warm-up: worker start, page cache, JIT
    }
    // Variants alternate, so that load from other processes hits them alike. Even epochs only,
    // with a pause: the look-ahead into the next epoch (prefetched across the boundary) is then
    // neither a head start for the timed epoch nor extra work during another variant's timing.
    for (let r = 1; r <= repeats; r++) {
      for (const [name] of variants) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        runs.get(name)!.push(await epoch(datasets.get(name)!, 2 * r, n));
      }
    }
    for (const data of datasets.values()) await data.close();
    const results: VariantResult[] = variants.map(([name]) => {
      const rs = runs.get(name)!;
      return {
        name,
        imagesPerSecond: median(rs.map((x) => x.imagesPerSecond)),
        cpuMsPerImage: median(rs.map((x) => x.cpuMsPerImage)),
        mainMsPerImage: median(rs.map((x) => x.mainMsPerImage)),
        maxStallMs: Math.max(...rs.map((x) => x.maxStallMs)),
      };
    });
    const lines = [
      `image-folder throughput: ${n} JPEGs 500x375 -> 64x64x3 float32, batch 32, prefetch 2, ${availableParallelism()} cores, median of ${repeats}`,
      '| variant | img/s | CPU ms/img (all threads) | main-thread ms/img | max event-loop stall (ms) |',
      '|---|---|---|---|---|',
      ...results.map(
        (x) =>
          `| ${x.name} | ${x.imagesPerSecond.toFixed(0)} | ${x.cpuMsPerImage.toFixed(2)} | ${x.mainMsPerImage.toFixed(2)} | ${x.maxStallMs.toFixed(1)} |`,
      ),
      `ratio default / baseline: ${(results[1]!.imagesPerSecond / results[0]!.imagesPerSecond).toFixed(2)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return results;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
