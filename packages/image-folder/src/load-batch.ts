import { applyTransform } from './apply-transform.js';
import type { FillMode } from './affine-transform.js';
import type { ColorMode } from './convert-color.js';
import { channelsOf } from './convert-color.js';
import {
  checkImagePixels,
  DEFAULT_MAX_BATCH_PIXELS,
  imageSize,
  pixelBudget,
  readImageFile,
} from './image-header.js';
import { decodeCheckedImage } from './load-image.js';
import type { TransformParams } from './random-transform.js';
import type { Interpolation } from './resize-image.js';

/**
 * Everything needed to turn files into one batch's pixels; plain data, so it can cross to a worker.
 *
 * ## Example
 * ```ts
 * import type { BatchConfig } from '@rxfit/image-folder';
 * const c: BatchConfig = { height: 64, width: 64, colorMode: 'rgb', interpolation: 'nearest', keepAspectRatio: false, fastResize: false,
 *   fillMode: 'nearest', cval: 0, rescale: 1 / 255, limitInputPixels: 25_000_000, maxBatchPixels: 25_000_000, concurrency: 4 };
 * ```
 */
export interface BatchConfig {
  readonly height: number;
  readonly width: number;
  readonly colorMode: ColorMode;
  readonly interpolation: Interpolation;
  readonly keepAspectRatio: boolean;
  readonly fastResize: boolean;
  readonly fillMode: FillMode;
  readonly cval: number;
  readonly rescale: number | null;
  readonly limitInputPixels: number | false;
  /** Source pixels (from the headers) decoded at the same time in the batch; `false` = no bound. @default 25000000 */
  readonly maxBatchPixels?: number | false;
  /** Images decoded at once. */
  readonly concurrency: number;
}

/**
 * The pixels of one batch: images that loaded, packed in request order, and the ones that failed.
 *
 * ## Example
 * ```ts
 * import type { LoadedBatch } from '@rxfit/image-folder';
 * const empty: LoadedBatch = { x: new Float32Array(0), kept: [], failures: [] };
 * ```
 */
export interface LoadedBatch {
  /** float32 `[kept.length, h, w, c]`. */
  readonly x: Float32Array;
  /** Positions (in the request) of the images in `x`. */
  readonly kept: readonly number[];
  readonly failures: readonly {
    readonly index: number;
    readonly file: string;
    readonly message: string;
  }[];
}

/**
 * Loads, augments and rescales the files of one batch into a float32 `[b, h, w, c]` array, with
 * up to `config.concurrency` decodes in flight (decoding runs on libvips/libuv threads; the
 * JavaScript resize and augmentation run between awaits, one image at a time). Each file's header
 * is read first: an image over `limitInputPixels` fails without being decoded, and decodes in
 * flight hold at most `maxBatchPixels` source pixels together.
 *
 * ## Example
 * ```ts
 * import { loadBatch } from '@rxfit/image-folder';
 * const { x } = await loadBatch(['a.png', 'b.png'], [null, null], { height: 32, width: 32, colorMode: 'rgb',
 *   interpolation: 'nearest', keepAspectRatio: false, fastResize: false, fillMode: 'nearest', cval: 0, rescale: 1 / 255,
 *   limitInputPixels: 25_000_000, maxBatchPixels: 25_000_000, concurrency: 4 });
 * ```
 *
 * @param files - absolute paths
 * @param params - one transform per file (`null` = none)
 * @param config - target size, colour, fill, rescale
 * @returns the packed pixels and any per-file failures (never throws for a bad image)
 */
export async function loadBatch(
  files: readonly string[],
  params: readonly (TransformParams | null)[],
  config: BatchConfig,
): Promise<LoadedBatch> {
  const per = config.height * config.width * channelsOf(config.colorMode);
  const slots = new Float32Array(files.length * per);
  const ok = new Uint8Array(files.length);
  const failures: { index: number; file: string; message: string }[] = [];
  const budget = pixelBudget(config.maxBatchPixels ?? DEFAULT_MAX_BATCH_PIXELS);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      try {
        const bytes = await readImageFile(file, config.limitInputPixels);
        const pixels = checkImagePixels(await imageSize(bytes), config.limitInputPixels);
        const img = await budget.use(pixels, () =>
          decodeCheckedImage(bytes, {
            targetSize: [config.height, config.width],
            colorMode: config.colorMode,
            interpolation: config.interpolation,
            keepAspectRatio: config.keepAspectRatio,
            fastResize: config.fastResize,
            limitInputPixels: config.limitInputPixels,
          }),
        );
        const out = slots.subarray(i * per, (i + 1) * per);
        const p = params[i];
        if (p)
          applyTransform(img, p, {
            fillMode: config.fillMode,
            cval: config.cval,
            rescale: config.rescale,
            out,
          });
        else if (config.rescale !== null) {
          const s = Math.fround(config.rescale);
          for (let k = 0; k < per; k++) out[k] = Math.fround(img.data[k]! * s);
        } else out.set(img.data);
        ok[i] = 1;
      } catch (err) {
        failures.push({
          index: i,
          file,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, files.length) }, work));
  if (failures.length === 0) return { x: slots, kept: files.map((_, i) => i), failures };
  failures.sort((a, b) => a.index - b.index);
  const kept: number[] = [];
  for (let i = 0; i < files.length; i++) if (ok[i]) kept.push(i);
  const x = new Float32Array(kept.length * per);
  kept.forEach((src, dst) => x.set(slots.subarray(src * per, (src + 1) * per), dst * per));
  return { x, kept, failures };
}
