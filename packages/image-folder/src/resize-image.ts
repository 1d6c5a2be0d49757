import type { ImagePixels } from './image-pixels.js';

/**
 * Resampling filter for the resize to `targetSize` (Keras' `interpolation`, Pillow's filters).
 *
 * ## Example
 * ```ts
 * import type { Interpolation } from '@rxfit/image-folder';
 * const i: Interpolation = 'bilinear';
 * ```
 */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'hamming' | 'box' | 'lanczos';

interface Filter {
  readonly support: number;
  readonly fn: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

// Pillow's libImaging/Resample.c filters.
const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(x));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  readonly ksize: number;
  readonly bounds: Int32Array; // [min, count] per output position
  readonly kk: Int32Array; // fixed-point weights, ksize per output position
}

function precompute(
  inSize: number,
  in0: number,
  in1: number,
  outSize: number,
  filter: Filter,
): Coefficients {
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = filter.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax ? (ww !== 0 ? w[x]! / ww : w[x]!) : 0;
      kk[xx * ksize + x] =
        v < 0
          ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS))
          : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/** Pillow's two-pass (horizontal, then vertical) 8-bit convolution resample. */
function convolve(
  image: ImagePixels<Uint8Array>,
  outH: number,
  outW: number,
  filter: Filter,
  box: CropBox,
): ImagePixels<Uint8Array> {
  const { height: inH, width: inW, channels: ch, data } = image;
  const needH = outW !== inW || box[0] !== 0 || box[2] !== inW;
  const needV = outH !== inH || box[1] !== 0 || box[3] !== inH;
  const horiz = precompute(inW, box[0], box[2], outW, filter);
  const vert = precompute(inH, box[1], box[3], outH, filter);
  let src = data;
  let srcH = inH;
  let srcW = inW;
  const vBounds = Int32Array.from(vert.bounds);
  if (needH) {
    const first = vBounds[0]!;
    const last = vBounds[outH * 2 - 2]! + vBounds[outH * 2 - 1]!;
    for (let i = 0; i < outH; i++) vBounds[i * 2] = vBounds[i * 2]! - first;
    const rows = last - first;
    const tmp = new Uint8Array(rows * outW * ch);
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + first) * inW * ch;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = horiz.bounds[xx * 2]!;
        const xmax = horiz.bounds[xx * 2 + 1]!;
        const k = xx * horiz.ksize;
        for (let c = 0; c < ch; c++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++)
            ss += data[rowIn + (x + xmin) * ch + c]! * horiz.kk[k + x]!;
          tmp[(y * outW + xx) * ch + c] = clip8(ss);
        }
      }
    }
    src = tmp;
    srcH = rows;
    srcW = outW;
  }
  if (!needV) return { data: src, height: srcH, width: srcW, channels: ch };
  const out = new Uint8Array(outH * srcW * ch);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vBounds[yy * 2]!;
    const ymax = vBounds[yy * 2 + 1]!;
    const k = yy * vert.ksize;
    for (let xx = 0; xx < srcW; xx++) {
      for (let c = 0; c < ch; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ymax; y++)
          ss += src[((y + ymin) * srcW + xx) * ch + c]! * vert.kk[k + y]!;
        out[(yy * srcW + xx) * ch + c] = clip8(ss);
      }
    }
  }
  return { data: out, height: outH, width: srcW, channels: ch };
}

/** Pillow's NEAREST resize (ImagingScaleAffine): accumulated source positions, truncated. */
function nearest(
  image: ImagePixels<Uint8Array>,
  outH: number,
  outW: number,
  box: CropBox,
): ImagePixels<Uint8Array> {
  const { height: inH, width: inW, channels: ch, data } = image;
  const ax = (box[2] - box[0]) / outW;
  const ay = (box[3] - box[1]) / outH;
  const xin = new Int32Array(outW);
  let xo = box[0] + ax * 0.5;
  for (let x = 0; x < outW; x++) {
    xin[x] = Math.min(Math.trunc(xo), inW - 1);
    xo += ax;
  }
  const out = new Uint8Array(outH * outW * ch);
  let yo = box[1] + ay * 0.5;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const row = Math.min(Math.trunc(yo), inH - 1) * inW;
    yo += ay;
    for (let x = 0; x < outW; x++) {
      const i = (row + xin[x]!) * ch;
      for (let c = 0; c < ch; c++) out[o++] = data[i + c]!;
    }
  }
  return { data: out, height: outH, width: outW, channels: ch };
}

// Pillow's MULDIV255 and its RGBA <-> RGBa (premultiplied) conversions.
function premultiply(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = data[i + c]! * a + 128;
      out[i + c] = ((t >> 8) + t) >> 8;
    }
    out[i + 3] = a;
  }
  return out;
}

function unpremultiply(data: Uint8Array): Uint8Array {
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) {
      const v = Math.trunc((255 * data[i + c]!) / a);
      data[i + c] = v > 255 ? 255 : v;
    }
  }
  return data;
}

/**
 * A source region `[left, top, right, bottom]` in pixels (Pillow's `box`).
 *
 * ## Example
 * ```ts
 * import type { CropBox } from '@rxfit/image-folder/pipeline';
 * const centre: CropBox = [10, 0, 90, 80];
 * ```
 */
export type CropBox = readonly [number, number, number, number];

/**
 * The centred crop Keras' `load_img(keep_aspect_ratio=True)` resizes from: the largest region of
 * the target's aspect ratio (integer arithmetic, as Keras), centred.
 *
 * ## Example
 * ```ts
 * import { aspectCropBox } from '@rxfit/image-folder/pipeline';
 * aspectCropBox(500, 375, 64, 64); // [62, 0, 437, 375]
 * ```
 *
 * @param width - source width
 * @param height - source height
 * @param targetHeight - target rows
 * @param targetWidth - target columns
 * @returns the crop box
 */
export function aspectCropBox(
  width: number,
  height: number,
  targetHeight: number,
  targetWidth: number,
): CropBox {
  const cropHeight = Math.min(height, Math.floor((width * targetHeight) / targetWidth));
  const cropWidth = Math.min(width, Math.floor((height * targetWidth) / targetHeight));
  const top = Math.floor((height - cropHeight) / 2);
  const left = Math.floor((width - cropWidth) / 2);
  return [left, top, left + cropWidth, top + cropHeight];
}

/**
 * Resizes a uint8 image to `height` × `width` exactly as Pillow's `Image.resize` does (what Keras'
 * `load_img` calls): NEAREST picks source pixels by Pillow's accumulated-position rule; the other
 * filters use Pillow's antialiased two-pass fixed-point convolution, premultiplying alpha for
 * 4-channel images. Returns the input itself when the size already matches (Keras skips the
 * resize then). `box` resizes only that region, as Pillow's `resize(size, filter, box)` (the
 * filters may still read pixels just outside it).
 *
 * ## Example
 * ```ts
 * import { resizeImage } from '@rxfit/image-folder/pipeline';
 * const small = resizeImage({ data: new Uint8Array(100 * 80 * 3), height: 80, width: 100, channels: 3 }, 64, 64, 'nearest');
 * ```
 *
 * @param image - uint8 pixels `[h, w, c]`
 * @param height - target rows
 * @param width - target columns
 * @param interpolation - Pillow filter
 * @param box - source region, default the whole image
 * @returns the resized image
 */
export function resizeImage(
  image: ImagePixels<Uint8Array>,
  height: number,
  width: number,
  interpolation: Interpolation,
  box: CropBox = [0, 0, image.width, image.height],
): ImagePixels<Uint8Array> {
  const whole = box[0] === 0 && box[1] === 0 && box[2] === image.width && box[3] === image.height;
  if (image.height === height && image.width === width && whole) return image;
  if (interpolation === 'nearest') return nearest(image, height, width, box);
  const filter = FILTERS[interpolation];
  if (image.channels === 4) {
    const premultiplied = { ...image, data: premultiply(image.data) };
    const resized = convolve(premultiplied, height, width, filter, box);
    return { ...resized, data: unpremultiply(resized.data) };
  }
  return convolve(image, height, width, filter, box);
}
