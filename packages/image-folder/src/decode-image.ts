import sharp from 'sharp';
import { decodeBmp } from './decode-bmp.js';
import { decodeNetpbm } from './decode-netpbm.js';
import type { ImagePixels } from './image-pixels.js';

/**
 * How {@link decodeImage} protects itself and, for the fast path, resizes inside libvips.
 *
 * ## Example
 * ```ts
 * import type { DecodeOptions } from '@rxfit/image-folder/pipeline';
 * const o: DecodeOptions = { limitInputPixels: 50_000_000 };
 * ```
 */
export interface DecodeOptions {
  /** Reject images with more pixels than this (decompression bombs); `false` = no limit. @default 25000000 */
  readonly limitInputPixels?: number | false;
  /** Resize in libvips to this `[height, width]` (shrink-on-load, not Pillow-exact). */
  readonly resize?: {
    readonly height: number;
    readonly width: number;
    readonly kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
    /** Crop the centre to the target's aspect ratio instead of stretching. */
    readonly crop?: boolean;
  };
}

import { DEFAULT_LIMIT_INPUT_PIXELS as DEFAULT_LIMIT, ownDecoderFormat } from './image-header.js';

/**
 * Decodes image bytes to uint8 pixels with 1–4 channels: sharp/libvips for JPEG, PNG, GIF (first
 * frame), TIFF and WebP — no EXIF rotation and no ICC conversion, like Pillow — and built-in
 * decoders for BMP and Netpbm, which the prebuilt sharp lacks. Truncated or corrupt data is an
 * error (sharp `failOn: 'error'`).
 *
 * ## Example
 * ```ts
 * import { decodeImage } from '@rxfit/image-folder/pipeline';
 * import { readFile } from 'node:fs/promises';
 * const img = await decodeImage(await readFile('cats/cat.1.jpg'));
 * ```
 *
 * @param buf - the file's bytes
 * @param options - pixel limit, optional libvips resize
 * @returns decoded pixels
 * @throws Error when the bytes are not a decodable image or exceed the pixel limit
 */
export async function decodeImage(
  buf: Uint8Array,
  options: DecodeOptions = {},
): Promise<ImagePixels<Uint8Array>> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT;
  const format = ownDecoderFormat(buf);
  if (format === 'bmp') return resized(decodeBmp(buf, limit === false ? Infinity : limit), options);
  if (format === 'netpbm') return resized(decodeNetpbm(buf, limit === false ? Infinity : limit), options);
  let pipeline = sharp(buf, {
    failOn: 'error',
    limitInputPixels: limit === false ? false : limit,
    ignoreIcc: true,
  });
  if (options.resize) {
    const { width, height, kernel, crop } = options.resize;
    pipeline = pipeline.resize(width, height, { fit: crop ? 'cover' : 'fill', kernel });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    height: info.height,
    width: info.width,
    channels: info.channels,
  };
}

async function resized(
  image: ImagePixels<Uint8Array>,
  options: DecodeOptions,
): Promise<ImagePixels<Uint8Array>> {
  if (!options.resize) return image;
  // The fast path resizes the decoded pixels in libvips as it would the file.
  const { width, height, kernel, crop } = options.resize;
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 2 | 3 | 4 },
  })
    .resize(width, height, { fit: crop ? 'cover' : 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    height: info.height,
    width: info.width,
    channels: info.channels,
  };
}
