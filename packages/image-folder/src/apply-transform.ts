import { affineTransform, transformMatrix, type FillMode } from './affine-transform.js';
import type { ImagePixels } from './image-pixels.js';
import type { TransformParams } from './random-transform.js';

/**
 * How {@link applyTransform} fills borders and scales the result.
 *
 * ## Example
 * ```ts
 * import type { ApplyTransformOptions } from '@rxfit/image-folder';
 * const o: ApplyTransformOptions = { fillMode: 'constant', cval: 0, rescale: 1 / 255 };
 * ```
 */
export interface ApplyTransformOptions {
  /** @default 'nearest' */
  readonly fillMode?: FillMode;
  /** Fill value for `fillMode: 'constant'`, on the 0–255 scale. @default 0 */
  readonly cval?: number;
  /** Multiplies the result (in float32) after augmentation, as Keras' `rescale`. @default none */
  readonly rescale?: number | null;
  /** Where to write the result (length h·w·c); a new array when absent. */
  readonly out?: Float32Array;
}

/**
 * Applies one image's augmentation exactly as Keras' `ImageDataGenerator.apply_transform`
 * followed by `standardize` (rescale only): affine (rotation, shift, shear, zoom in one bilinear
 * resampling) → channel shift → horizontal flip → vertical flip → brightness (Pillow's uint8
 * truncation and float32 blend) → `× rescale` in float32.
 *
 * ## Example
 * ```ts
 * import { applyTransform, IDENTITY_TRANSFORM } from '@rxfit/image-folder/pipeline';
 * const img = { data: new Uint8Array(8 * 8 * 3).fill(200), height: 8, width: 8, channels: 3 };
 * const x = applyTransform(img, { ...IDENTITY_TRANSFORM, theta: 15, brightness: 0.5 }, { rescale: 1 / 255 });
 * ```
 *
 * @param image - pixels on the 0–255 scale (uint8 or float32)
 * @param params - the transform (e.g. Keras' recorded parameters)
 * @param options - fill mode, cval, rescale
 * @returns float32 pixels of the same shape
 */
export function applyTransform(
  image: ImagePixels,
  params: TransformParams,
  options: ApplyTransformOptions = {},
): Float32Array {
  const { height, width, channels } = image;
  const n = height * width * channels;
  const m = transformMatrix(params, height, width);
  let x: Float32Array;
  if (m === null) {
    x =
      options.out && !params.flipHorizontal && !params.flipVertical
        ? options.out
        : new Float32Array(n);
    x.set(image.data);
  } else {
    x = affineTransform(
      image.data,
      height,
      width,
      channels,
      m,
      options.fillMode ?? 'nearest',
      options.cval ?? 0,
    );
  }
  if (params.channelShiftIntensity !== null && params.channelShiftIntensity !== undefined) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // NumPy 2 adds a Python float to a float32 array in float32.
    const s = Math.fround(params.channelShiftIntensity);
    for (let i = 0; i < n; i++) {
      const v = Math.fround(x[i]! + s);
      x[i] = v < min ? min : v > max ? max : v;
    }
  }
  const flip = params.flipHorizontal || params.flipVertical;
  const out = options.out ?? (flip ? new Float32Array(n) : x);
  if (out !== x || flip) {
    // Flips are folded into the copy: output pixel (r, c) reads source (r', c').
    const rowStride = width * channels;
    for (let r = 0; r < height; r++) {
      const sr = params.flipVertical ? height - 1 - r : r;
      for (let c = 0; c < width; c++) {
        const sc = params.flipHorizontal ? width - 1 - c : c;
        const src = sr * rowStride + sc * channels;
        const dst = r * rowStride + c * channels;
        for (let k = 0; k < channels; k++) out[dst + k] = x[src + k]!;
      }
    }
  }
  if (params.brightness !== null && params.brightness !== undefined) {
    // array_to_img(x, scale=False) casts to uint8 by truncation; ImageEnhance.Brightness blends
    // with black in C float: trunc(clip(float32(f) * v)); the alpha channel is kept.
    const f = Math.fround(params.brightness);
    const colour = channels === 4 ? 3 : channels;
    for (let i = 0; i < n; i += channels) {
      for (let k = 0; k < channels; k++) {
        const v = toUint8(out[i + k]!);
        if (k < colour) {
          const b = Math.trunc(Math.fround(f * v));
          out[i + k] = b < 0 ? 0 : b > 255 ? 255 : b;
        } else {
          out[i + k] = v;
        }
      }
    }
  }
  if (options.rescale !== undefined && options.rescale !== null) {
    const s = Math.fround(options.rescale);
    for (let i = 0; i < n; i++) out[i] = Math.fround(out[i]! * s);
  }
  return out;
}

/** NumPy's float→uint8 `astype` for values that can occur here (saturated for out-of-range cval). */
function toUint8(v: number): number {
  if (!(v > 0)) return 0;
  return v >= 255 ? 255 : Math.trunc(v);
}
