import sharp from 'sharp';
import { readRegularFile } from '@rxfit/core/operator-kit';
import { bmpHeader } from './decode-bmp.js';
import { netpbmHeader } from './decode-netpbm.js';

/**
 * The default `limitInputPixels`: 25 megapixels, a 6000 × 4000 photo. Decoding one takes about
 * 75 MB (RGB); sharp's own default (268 megapixels) let a 249 KB PNG take 1.5 GB.
 * `bench/decode-memory.ts` measures a batch of 32 such images at 491 MB peak RSS.
 */
export const DEFAULT_LIMIT_INPUT_PIXELS = 25_000_000;

/**
 * The default `maxBatchPixels`: the source pixels one batch decodes at the same time. A batch
 * of larger images decodes them one after another, so a batch's decode memory stays bounded
 * whatever its files declare.
 */
export const DEFAULT_MAX_BATCH_PIXELS = 25_000_000;

/**
 * An image's size from its header, read before any pixel is decoded: sharp's metadata for
 * JPEG, PNG, GIF, TIFF and WebP, the built-in parsers for BMP and Netpbm.
 *
 * ## Example
 * ```ts
 * import { imageSize } from '@rxfit/image-folder';
 * const { width, height } = await imageSize(bytes);
 * ```
 * @param buf - the file's bytes
 * @returns width and height in pixels
 * @throws Error when the header cannot be read
 */
export async function imageSize(buf: Uint8Array): Promise<{ width: number; height: number }> {
  const format = ownDecoderFormat(buf);
  if (format === 'bmp') return bmpHeader(buf);
  if (format === 'netpbm') return netpbmHeader(buf);
  const { width, height } = await sharp(buf, { limitInputPixels: false }).metadata();
  if (width === undefined || height === undefined) throw new Error('the image header gives no size');
  return { width, height };
}

/**
 * The formats rxfit decodes itself, as sharp cannot (BMP, Netpbm `P1`–`P6`), by their magic
 * bytes; `undefined` for everything sharp decodes.
 */
export function ownDecoderFormat(buf: Uint8Array): 'bmp' | 'netpbm' | undefined {
  if (buf.length < 2) return undefined;
  if (buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp';
  if (buf[0] === 0x50 && buf[1]! >= 0x31 && buf[1]! <= 0x36) return 'netpbm';
  return undefined;
}

/**
 * Checks an image's declared size against the pixel limit, before it is decoded.
 *
 * ## Example
 * ```ts
 * import { checkImagePixels } from '@rxfit/image-folder';
 * checkImagePixels({ width: 16000, height: 16000 }, 25_000_000); // throws
 * ```
 * @param size - the size from {@link imageSize}
 * @param limit - `limitInputPixels`
 * @returns the image's pixel count
 * @throws RangeError naming the size and the option when the image is larger
 */
export function checkImagePixels(size: { width: number; height: number }, limit: number | false): number {
  const pixels = size.width * size.height;
  if (limit !== false && pixels > limit) {
    throw new RangeError(
      `the image declares ${size.width}x${size.height} (${pixels} pixels), more than limitInputPixels (${limit}); ` +
        'raise limitInputPixels to load it',
    );
  }
  return pixels;
}

/**
 * Reads an image file: a regular file (a link to one is followed; a FIFO or a device such as
 * `/dev/zero` is refused before reading), of plausible size for the pixel limit (8 bytes per
 * pixel, as an uncompressed 16-bit RGBA TIFF, plus 1 MiB).
 *
 * ## Example
 * ```ts
 * import { readImageFile } from '@rxfit/image-folder';
 * const bytes = await readImageFile('cats/cat.1.jpg', 25_000_000);
 * ```
 * @param path - the image file
 * @param limit - `limitInputPixels`
 * @returns the file's bytes
 * @throws Error naming the file when it is not a regular file or is too large
 */
export async function readImageFile(path: string, limit: number | false): Promise<Uint8Array> {
  return readRegularFile(path, { maxBytes: limit === false ? Infinity : limit * 8 + (1 << 20) });
}

/**
 * A budget of pixels shared by the decodes of one batch: each decode takes its image's pixels
 * before it starts and gives them back when it ends; a decode that does not fit waits. An image
 * larger than the whole budget runs alone.
 *
 * ## Example
 * ```ts
 * import { pixelBudget } from '@rxfit/image-folder';
 * const budget = pixelBudget(25_000_000);
 * await budget.use(4000 * 3000, () => decode());
 * ```
 * @param total - the budget; `false` = unlimited
 * @returns the budget
 */
export function pixelBudget(total: number | false): { use<T>(pixels: number, work: () => Promise<T>): Promise<T> } {
  let free = total === false ? Infinity : total;
  const waiting: { pixels: number; start: () => void }[] = [];
  const wake = (): void => {
    while (waiting.length > 0 && waiting[0]!.pixels <= free) {
      const next = waiting.shift()!;
      free -= next.pixels;
      next.start();
    }
  };
  return {
    async use(pixels, work) {
      const taken = total === false ? 0 : Math.min(pixels, total);
      if (waiting.length === 0 && taken <= free) free -= taken;
      else await new Promise<void>((start) => waiting.push({ pixels: taken, start }));
      try {
        return await work();
      } finally {
        free += taken;
        wake();
      }
    },
  };
}
