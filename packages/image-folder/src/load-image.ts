import { convertColor, type ColorMode } from './convert-color.js';
import { decodeImage } from './decode-image.js';
import {
  checkImagePixels,
  DEFAULT_LIMIT_INPUT_PIXELS,
  imageSize,
  readImageFile,
} from './image-header.js';
import type { ImagePixels } from './image-pixels.js';
import { aspectCropBox, resizeImage, type Interpolation } from './resize-image.js';

/**
 * How {@link loadImage} reads one file (Keras' `load_img` arguments, camelCase).
 *
 * ## Example
 * ```ts
 * import type { LoadImageOptions } from '@rxfit/image-folder';
 * const o: LoadImageOptions = { targetSize: [64, 64], colorMode: 'rgb', interpolation: 'nearest' };
 * ```
 */
export interface LoadImageOptions {
  /** `[height, width]`; absent = keep the file's size. */
  readonly targetSize?: readonly [number, number];
  /** @default 'rgb' */
  readonly colorMode?: ColorMode;
  /** @default 'nearest' */
  readonly interpolation?: Interpolation;
  /** Crop the centre to the target's aspect ratio before resizing (Keras' `keep_aspect_ratio`). @default false */
  readonly keepAspectRatio?: boolean;
  /** Resize inside libvips (JPEG shrink-on-load): faster, not Pillow-exact. @default false */
  readonly fastResize?: boolean;
  /**
   * Pixel limit against decompression bombs, checked from the header before decoding; `false` =
   * none. @default 25000000 (25 megapixels)
   */
  readonly limitInputPixels?: number | false;
}

const SHARP_KERNEL = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
} as const;

/**
 * Loads an image file (or its bytes) the way Keras' `load_img` + `img_to_array` do: decode,
 * convert to `colorMode` (Pillow's rules), then resize to `targetSize` with Pillow's filter —
 * colour conversion happens first, as in Keras. With `fastResize`, libvips resizes instead.
 *
 * ## Example
 * ```ts
 * import { loadImage } from '@rxfit/image-folder';
 * const img = await loadImage('training_set/cats/cat.1.jpg', { targetSize: [64, 64] });
 * // img.data: Uint8Array of 64 * 64 * 3
 * ```
 *
 * @param source - a path or the file's bytes
 * @param options - target size, colour mode, interpolation
 * @returns uint8 pixels `[h, w, c]`
 * @throws Error when the file cannot be read (not a regular file: a FIFO, a device) or decoded;
 *   RangeError when its header declares more pixels than `limitInputPixels`
 */
export async function loadImage(
  source: string | Uint8Array,
  options: LoadImageOptions = {},
): Promise<ImagePixels<Uint8Array>> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const buf = typeof source === 'string' ? await readImageFile(source, limit) : source;
  // The header's size is checked before any pixel is decoded.
  checkImagePixels(await imageSize(buf), limit);
  return decodeCheckedImage(buf, options);
}

/**
 * {@link loadImage} for bytes whose header size the caller already checked (`loadBatch` reads it
 * once, for the pixel limit and the batch budget).
 * @internal
 */
export async function decodeCheckedImage(
  buf: Uint8Array,
  options: LoadImageOptions = {},
): Promise<ImagePixels<Uint8Array>> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const colorMode = options.colorMode ?? 'rgb';
  const interpolation = options.interpolation ?? 'nearest';
  const target = options.targetSize;
  if (options.fastResize && target) {
    const kernel = SHARP_KERNEL[interpolation as keyof typeof SHARP_KERNEL];
    if (!kernel)
      throw new RangeError(`fastResize does not support interpolation '${interpolation}'`);
    const decoded = await decodeImage(buf, {
      limitInputPixels: limit,
      resize: {
        height: target[0],
        width: target[1],
        kernel,
        crop: options.keepAspectRatio ?? false,
      },
    });
    return convertColor(decoded, colorMode);
  }
  const decoded = await decodeImage(buf, { limitInputPixels: limit });
  const converted = convertColor(decoded, colorMode);
  if (!target) return converted;
  const [height, width] = target;
  // Keras crops only when the size differs (the crop is the identity otherwise).
  const sameSize = converted.height === height && converted.width === width;
  const box =
    options.keepAspectRatio && !sameSize
      ? aspectCropBox(converted.width, converted.height, height, width)
      : undefined;
  return resizeImage(converted, height, width, interpolation, box);
}
