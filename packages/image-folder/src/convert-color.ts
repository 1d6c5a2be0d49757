import type { ImagePixels } from './image-pixels.js';

/**
 * The channel layout of the yielded images: `rgb` (3), `grayscale` (1) or `rgba` (4).
 *
 * ## Example
 * ```ts
 * import type { ColorMode } from '@rxfit/image-folder';
 * const mode: ColorMode = 'grayscale';
 * ```
 */
export type ColorMode = 'rgb' | 'grayscale' | 'rgba';

/**
 * Channels per pixel for a colour mode.
 *
 * ## Example
 * ```ts
 * import { channelsOf } from '@rxfit/image-folder/pipeline';
 * channelsOf('rgba'); // 4
 * ```
 *
 * @param mode - the colour mode
 * @returns 1, 3 or 4
 */
export function channelsOf(mode: ColorMode): 1 | 3 | 4 {
  return mode === 'grayscale' ? 1 : mode === 'rgba' ? 4 : 3;
}

/**
 * Converts decoded pixels with 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) channels to `mode` the way
 * Pillow's `Image.convert` does for Keras' `load_img`: alpha is dropped (never composited) for
 * `rgb`, grey is copied to R, G and B, a missing alpha is 255, and grey from colour is
 * `L = (19595·R + 38470·G + 7471·B + 0x8000) >> 16` (ITU-R 601-2 luma in fixed point).
 *
 * ## Example
 * ```ts
 * import { convertColor } from '@rxfit/image-folder/pipeline';
 * const grey = convertColor({ data: Uint8Array.of(255, 0, 0), height: 1, width: 1, channels: 3 }, 'grayscale');
 * // grey.data[0] === 76
 * ```
 *
 * @param image - decoded uint8 pixels
 * @param mode - the target colour mode
 * @returns the converted image (the input itself when nothing changes)
 */
export function convertColor(
  image: ImagePixels<Uint8Array>,
  mode: ColorMode,
): ImagePixels<Uint8Array> {
  const src = image.channels;
  const dst = channelsOf(mode);
  if (src === dst) return image;
  if (src < 1 || src > 4) throw new RangeError(`cannot convert an image with ${src} channels`);
  const n = image.height * image.width;
  const data = image.data;
  const out = new Uint8Array(n * dst);
  for (let p = 0, i = 0, o = 0; p < n; p++, i += src, o += dst) {
    const grey = src <= 2;
    const r = data[i]!;
    const g = grey ? r : data[i + 1]!;
    const b = grey ? r : data[i + 2]!;
    const a = src === 2 ? data[i + 1]! : src === 4 ? data[i + 3]! : 255;
    if (dst === 1) {
      out[o] = grey ? r : (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    } else {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (dst === 4) out[o + 3] = a;
    }
  }
  return { data: out, height: image.height, width: image.width, channels: dst };
}
