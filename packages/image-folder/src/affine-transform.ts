import type { TransformParams } from './random-transform.js';

/**
 * How points outside the image are filled (SciPy `ndimage` modes, as Keras uses them):
 * `nearest` repeats the edge, `constant` uses `cval`, `reflect` mirrors about the pixel edge
 * (`d c b a | a b c d | d c b a`), `wrap` is SciPy's legacy wrap with period n − 1.
 *
 * ## Example
 * ```ts
 * import type { FillMode } from '@rxfit/image-folder';
 * const mode: FillMode = 'reflect';
 * ```
 */
export type FillMode = 'nearest' | 'constant' | 'reflect' | 'wrap';

/**
 * An affine map from an output pixel `(row, col)` to the input position it samples:
 * `inRow = rr·row + rc·col + r0`, `inCol = cr·row + cc·col + c0`.
 *
 * ## Example
 * ```ts
 * import type { AffineMatrix } from '@rxfit/image-folder/pipeline';
 * const identity: AffineMatrix = { rr: 1, rc: 0, r0: 0, cr: 0, cc: 1, c0: 0 };
 * ```
 */
export interface AffineMatrix {
  readonly rr: number;
  readonly rc: number;
  readonly r0: number;
  readonly cr: number;
  readonly cc: number;
  readonly c0: number;
}

type M3 = [number, number, number, number, number, number, number, number, number];

function mul(a: M3, b: M3): M3 {
  const out = new Array<number>(9) as M3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  return out;
}

const DEG = Math.PI / 180;

/**
 * Keras' `apply_affine_transform` matrix for `params` on an image of `height` × `width`, or `null`
 * when rotation, shift, shear and zoom are all at identity (no resampling happens then).
 *
 * `T = O · R(theta) · S(tx, ty) · Sh(shear) · Z(zx, zy) · O⁻¹` in (col, row) order with the pivot
 * `O = (height/2 − 0.5, width/2 − 0.5)` — Keras 3 puts `height/2` on the column axis, which is
 * not the image centre when height ≠ width; reproduced on purpose.
 *
 * ## Example
 * ```ts
 * import { transformMatrix, IDENTITY_TRANSFORM } from '@rxfit/image-folder/pipeline';
 * transformMatrix({ ...IDENTITY_TRANSFORM, theta: 90 }, 64, 64);
 * ```
 *
 * @param params - the transform
 * @param height - rows
 * @param width - columns
 * @returns the output→input map, or `null` for the identity
 */
export function transformMatrix(
  params: TransformParams,
  height: number,
  width: number,
): AffineMatrix | null {
  let m: M3 | null = null;
  const push = (f: M3): void => {
    m = m === null ? f : mul(m, f);
  };
  if (params.theta !== 0) {
    const t = params.theta * DEG;
    push([Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
  }
  if (params.tx !== 0 || params.ty !== 0) push([1, 0, params.tx, 0, 1, params.ty, 0, 0, 1]);
  if (params.shear !== 0) {
    const s = params.shear * DEG;
    push([1, -Math.sin(s), 0, 0, Math.cos(s), 0, 0, 0, 1]);
  }
  if (params.zx !== 1 || params.zy !== 1) push([params.zx, 0, 0, 0, params.zy, 0, 0, 0, 1]);
  if (m === null) return null;
  const ox = height / 2 - 0.5;
  const oy = width / 2 - 0.5;
  const t = mul(mul([1, 0, ox, 0, 1, oy, 0, 0, 1], m), [1, 0, -ox, 0, 1, -oy, 0, 0, 1]);
  // Keras swaps the two axes (M' = P·M·P) before handing the matrix to scipy, which indexes
  // (row, col): the first coordinate of T is the column.
  return { rr: t[4], rc: t[3], r0: t[5], cr: t[1], cc: t[0], c0: t[2] };
}

/** SciPy's `map_coordinate` (ni_interpolation.c) for one axis; −1 means "use cval". */
function mapCoordinate(x: number, len: number, mode: FillMode): number {
  if (x < 0) {
    switch (mode) {
      case 'reflect': {
        if (len <= 1) return 0;
        const sz2 = 2 * len;
        if (x < -sz2) x = sz2 * Math.trunc(-x / sz2) + x;
        return x < -len ? x + sz2 : (x > -1e-15 ? 1e-15 : -x) - 1;
      }
      case 'wrap': {
        if (len <= 1) return 0;
        const sz = len - 1;
        return x + sz * (Math.trunc(-x / sz) + 1);
      }
      case 'nearest':
        return 0;
      case 'constant':
        return -1;
    }
  } else if (x > len - 1) {
    switch (mode) {
      case 'reflect': {
        if (len <= 1) return 0;
        const sz2 = 2 * len;
        x -= sz2 * Math.trunc(x / sz2);
        return x >= len ? sz2 - x - 1 : x;
      }
      case 'wrap': {
        if (len <= 1) return 0;
        const sz = len - 1;
        return x - sz * Math.trunc(x / sz);
      }
      case 'nearest':
        return len - 1;
      case 'constant':
        return -1;
    }
  }
  return x;
}

/**
 * Where a filter tap just outside the image reads. After `mapCoordinate` a tap can only be one
 * step outside: `reflect` mirrors about the pixel edge (−1 → 0, n → n − 1); in the other modes such
 * a tap has weight 0 or lies on a clamped coordinate, so clamping is equivalent.
 */
function edgeIndex(idx: number, len: number): number {
  return idx < 0 ? 0 : idx >= len ? len - 1 : idx;
}

/**
 * Resamples an interleaved `[height, width, channels]` image through `matrix` with bilinear
 * interpolation (order 1), reproducing `scipy.ndimage.affine_transform` per channel: double
 * precision coordinates and weights, SciPy's border handling for `fillMode`, float32 result.
 *
 * ## Example
 * ```ts
 * import { affineTransform, transformMatrix, IDENTITY_TRANSFORM } from '@rxfit/image-folder/pipeline';
 * const m = transformMatrix({ ...IDENTITY_TRANSFORM, theta: 10 }, 8, 8)!;
 * const out = affineTransform(new Float32Array(8 * 8 * 3), 8, 8, 3, m, 'nearest', 0);
 * ```
 *
 * @param input - pixels, row-major `[h, w, c]`
 * @param height - rows
 * @param width - columns
 * @param channels - values per pixel
 * @param m - output→input map from {@link transformMatrix}
 * @param fillMode - border rule
 * @param cval - value for `constant` (same scale as `input`)
 * @returns a new float32 image of the same shape
 */
export function affineTransform(
  input: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  m: AffineMatrix,
  fillMode: FillMode,
  cval: number,
): Float32Array {
  const out = new Float32Array(height * width * channels);
  const cvalF = Math.fround(cval);
  let o = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++, o += channels) {
      let y = m.r0 + r * m.rr + c * m.rc;
      let x = m.c0 + r * m.cr + c * m.cc;
      y = mapCoordinate(y, height, fillMode);
      x = mapCoordinate(x, width, fillMode);
      if (fillMode === 'constant' && (y <= -1 || x <= -1)) {
        for (let k = 0; k < channels; k++) out[o + k] = cvalF;
        continue;
      }
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const ty = y - y0;
      const tx = x - x0;
      const wy0 = 1 - ty;
      const wx0 = 1 - tx;
      const r0 = (y0 < 0 || y0 >= height ? edgeIndex(y0, height) : y0) * width;
      const r1 = (y0 + 1 >= height ? edgeIndex(y0 + 1, height) : y0 + 1) * width;
      const c0 = x0 < 0 || x0 >= width ? edgeIndex(x0, width) : x0;
      const c1 = x0 + 1 >= width ? edgeIndex(x0 + 1, width) : x0 + 1;
      const i00 = (r0 + c0) * channels;
      const i01 = (r0 + c1) * channels;
      const i10 = (r1 + c0) * channels;
      const i11 = (r1 + c1) * channels;
      for (let k = 0; k < channels; k++) {
        out[o + k] =
          input[i00 + k]! * wy0 * wx0 +
          input[i01 + k]! * wy0 * tx +
          input[i10 + k]! * ty * wx0 +
          input[i11 + k]! * ty * tx;
      }
    }
  }
  return out;
}
