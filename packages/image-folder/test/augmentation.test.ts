// Each augmentation against a reference computed here, independently of the package's code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '@rxfit/core/operator-kit';
import { applyTransform, loadImage, type FillMode, type ImagePixels, type TransformParams } from '@rxfit/image-folder';
import { IDENTITY_TRANSFORM, randomTransform, resizeImage, aspectCropBox, convertColor } from '@rxfit/image-folder/pipeline';
import { join } from 'node:path';
import { encode, makeTree, pattern } from './make-tree.js';

const H = 9;
const W = 12;
const C = 3;
const img: ImagePixels<Uint8Array> = {
  data: pattern(W, H, 5, 3),
  height: H,
  width: W,
  channels: C,
};
const at = (im: ImagePixels, r: number, c: number, k: number): number =>
  im.data[(r * im.width + c) * im.channels + k]!;

/** Value of the extended image at integer (r, c) under a SciPy fill mode, or null for cval. */
function extended(mode: FillMode, i: number, n: number): number | null {
  switch (mode) {
    case 'nearest':
      return Math.min(Math.max(i, 0), n - 1);
    case 'constant':
      return i < 0 || i > n - 1 ? null : i;
    case 'reflect': {
      const p = 2 * n;
      const m = ((i % p) + p) % p;
      return m < n ? m : p - 1 - m;
    }
    case 'wrap': {
      // SciPy's legacy wrap: positions inside [0, n−1] stay; outside ones move by multiples of n − 1.
      // Negative positions land in (0, n−1] and positive ones in [0, n−1).
      if (i >= 0 && i <= n - 1) return i;
      const p = n - 1;
      return i < 0 ? p - (-i % p) : i % p;
    }
  }
}

/** Reference: out(r, c) = in(r + dr, c + dc) for integer offsets, through the fill mode. */
function shifted(mode: FillMode, dr: number, dc: number, cval = 0): Float32Array {
  const out = new Float32Array(H * W * C);
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const rr = extended(mode, r + dr, H);
      const cc = extended(mode, c + dc, W);
      for (let k = 0; k < C; k++)
        out[(r * W + c) * C + k] = rr === null || cc === null ? cval : at(img, rr, cc, k);
    }
  return out;
}

/** Plain bilinear sampling with edge clamping (reference for non-integer affine maps). */
function bilinearClamp(im: ImagePixels, y: number, x: number, k: number): number {
  y = Math.min(Math.max(y, 0), im.height - 1);
  x = Math.min(Math.max(x, 0), im.width - 1);
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const y1 = Math.min(y0 + 1, im.height - 1);
  const x1 = Math.min(x0 + 1, im.width - 1);
  const fy = y - y0;
  const fx = x - x0;
  const top = at(im, y0, x0, k) * (1 - fx) + at(im, y0, x1, k) * fx;
  const bottom = at(im, y1, x0, k) * (1 - fx) + at(im, y1, x1, k) * fx;
  return top * (1 - fy) + bottom * fy;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > tol)
      assert.fail(`${what}: index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

const P = (p: Partial<TransformParams>): TransformParams => ({ ...IDENTITY_TRANSFORM, ...p });

describe('applyTransform against independent references', () => {
  it('identity copies the pixels; rescale multiplies in float32', () => {
    const out = applyTransform(img, IDENTITY_TRANSFORM, { rescale: 1 / 255 });
    const s = Math.fround(1 / 255);
    assertClose(
      out,
      Array.from(img.data, (v) => Math.fround(v * s)),
      0,
      'rescale',
    );
  });

  it('horizontal and vertical flips mirror columns and rows', () => {
    const h = applyTransform(img, P({ flipHorizontal: true }));
    const v = applyTransform(img, P({ flipVertical: true }));
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++)
        for (let k = 0; k < C; k++) {
          assert.equal(h[(r * W + c) * C + k], at(img, r, W - 1 - c, k));
          assert.equal(v[(r * W + c) * C + k], at(img, H - 1 - r, c, k));
        }
  });

  for (const mode of ['nearest', 'constant', 'reflect', 'wrap'] as const) {
    it(`integer shifts with fillMode '${mode}': tx moves content left, ty up (Keras 3 axes)`, () => {
      for (const [tx, ty] of [
        [3, 0],
        [0, 2],
        [-4, -3],
        [15, 0],
        [0, -11],
      ] as const) {
        const out = applyTransform(img, P({ tx, ty }), { fillMode: mode, cval: 77 });
        assertClose(out, shifted(mode, ty, tx, 77), 1e-9, `${mode} tx=${tx} ty=${ty}`);
      }
    });
  }

  it('rotation by 90° on a square image turns the content counter-clockwise', () => {
    const n = 8;
    const sq: ImagePixels<Uint8Array> = {
      data: pattern(n, n, 2, 1),
      height: n,
      width: n,
      channels: 1,
    };
    const out = applyTransform(sq, P({ theta: 90 }));
    const ref = new Float32Array(n * n);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) ref[r * n + c] = at(sq, c, n - 1 - r, 0);
    assertClose(out, ref, 1e-9, 'rotate 90');
  });

  it('zoom, shear and rotation sample the Keras-mapped position bilinearly (pivot h/2−0.5 on columns)', () => {
    const cases: Partial<TransformParams>[] = [
      { zx: 0.5, zy: 0.8 },
      { zx: 1.3, zy: 1.1 },
      { shear: 25 },
      { theta: 17 },
      { theta: -33, zx: 0.9, shear: 8, tx: 1.5, ty: -0.5 },
    ];
    for (const p of cases) {
      const out = applyTransform(img, P(p), { fillMode: 'nearest' });
      // Keras: (col, row)_in = O·R·S·Sh·Z·O⁻¹ (c, r), O = (H/2 − 0.5, W/2 − 0.5) in (col, row) order.
      const t = ((p.theta ?? 0) * Math.PI) / 180;
      const s = ((p.shear ?? 0) * Math.PI) / 180;
      const zx = p.zx ?? 1;
      const zy = p.zy ?? 1;
      const ox = H / 2 - 0.5;
      const oy = W / 2 - 0.5;
      const ref = new Float32Array(H * W * C);
      for (let r = 0; r < H; r++)
        for (let c = 0; c < W; c++) {
          let u = c - ox; // column coordinate, centred
          let v = r - oy; // row coordinate, centred
          [u, v] = [zx * u, zy * v]; // zoom
          [u, v] = [u - Math.sin(s) * v, Math.cos(s) * v]; // shear
          [u, v] = [u + (p.tx ?? 0), v + (p.ty ?? 0)]; // shift
          [u, v] = [Math.cos(t) * u - Math.sin(t) * v, Math.sin(t) * u + Math.cos(t) * v]; // rotation
          for (let k = 0; k < C; k++)
            ref[(r * W + c) * C + k] = bilinearClamp(img, v + oy, u + ox, k);
        }
      assertClose(out, ref, 1e-3, JSON.stringify(p));
    }
  });

  it('channel shift adds one value to all channels, clipped to the image min/max', () => {
    const out = applyTransform(img, P({ channelShiftIntensity: 40 }));
    const min = Math.min(...img.data);
    const max = Math.max(...img.data);
    assertClose(
      out,
      Array.from(img.data, (v) => Math.min(max, Math.max(min, v + 40))),
      0,
      'channel shift',
    );
  });

  it('brightness truncates to uint8 and scales in float32 (Pillow), alpha kept', () => {
    for (const f of [0.3, 0.7, 1.4, 2.5]) {
      const out = applyTransform(img, P({ brightness: f }));
      assertClose(
        out,
        Array.from(img.data, (v) => Math.min(255, Math.trunc(Math.fround(Math.fround(f) * v)))),
        0,
        `brightness ${f}`,
      );
    }
    const rgba: ImagePixels<Uint8Array> = {
      data: pattern(4, 3, 1, 4),
      height: 3,
      width: 4,
      channels: 4,
    };
    const out = applyTransform(rgba, P({ brightness: 0.5 }));
    for (let i = 0; i < out.length; i++)
      assert.equal(
        out[i],
        i % 4 === 3 ? rgba.data[i] : Math.trunc(Math.fround(Math.fround(0.5) * rgba.data[i]!)),
      );
  });

  it('order: affine, then flips, then brightness, then rescale', () => {
    const out = applyTransform(img, P({ tx: 2, flipHorizontal: true, brightness: 0.5 }), {
      rescale: 0.5,
    });
    const shiftedRef = shifted('nearest', 0, 2);
    const ref = new Float32Array(H * W * C);
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++)
        for (let k = 0; k < C; k++)
          ref[(r * W + c) * C + k] =
            Math.trunc(0.5 * shiftedRef[(r * W + (W - 1 - c)) * C + k]!) * 0.5;
    assertClose(out, ref, 0, 'order');
  });

  it('writes into `out` when given', () => {
    const out = new Float32Array(H * W * C);
    const res = applyTransform(img, P({ theta: 5, flipVertical: true }), { out });
    assert.equal(res, out);
    assertClose(out, applyTransform(img, P({ theta: 5, flipVertical: true })), 0, 'out');
  });
});

describe('randomTransform (Keras get_random_transform)', () => {
  const draw = (settings: Parameters<typeof randomTransform>[1], n = 400): TransformParams[] =>
    Array.from({ length: n }, (_, i) => randomTransform(seededRandom(7, 0, i), settings, 40, 60));

  it('identity when nothing is enabled', () => {
    for (const p of draw({}, 20)) assert.deepEqual(p, IDENTITY_TRANSFORM);
  });

  it('ranges: rotation and shear in degrees, zoom [1−z, 1+z] with independent zx/zy', () => {
    const ps = draw({ rotationRange: 20, shearRange: 0.2, zoomRange: 0.2 });
    assert.ok(ps.every((p) => Math.abs(p.theta) <= 20 && Math.abs(p.shear) <= 0.2));
    assert.ok(ps.every((p) => p.zx >= 0.8 && p.zx <= 1.2 && p.zy >= 0.8 && p.zy <= 1.2));
    assert.ok(ps.some((p) => p.theta > 10) && ps.some((p) => p.theta < -10));
    assert.ok(ps.filter((p) => p.zx !== p.zy).length === ps.length);
    const z = draw({ zoomRange: [0.5, 0.6] });
    assert.ok(z.every((p) => p.zx >= 0.5 && p.zx <= 0.6 && p.zy >= 0.5 && p.zy <= 0.6));
  });

  it('shift ranges: fraction × height for tx, × width for ty; integers pick whole pixels with a sign', () => {
    const ps = draw({ heightShiftRange: 0.1, widthShiftRange: 0.2 });
    assert.ok(ps.every((p) => Math.abs(p.tx) <= 4 && Math.abs(p.ty) <= 12));
    assert.ok(ps.some((p) => Math.abs(p.tx) > 3) && ps.some((p) => Math.abs(p.ty) > 10));
    const ints = draw({ heightShiftRange: 3, widthShiftRange: [5, 7] });
    assert.ok(
      ints.every((p) => [0, 1, 2].includes(Math.abs(p.tx)) && [5, 7].includes(Math.abs(p.ty))),
    );
    assert.ok(ints.some((p) => p.ty < 0) && ints.some((p) => p.ty > 0));
  });

  it('flips are drawn with p = 0.5 only when enabled; brightness and channel shift in range', () => {
    const ps = draw({
      horizontalFlip: true,
      verticalFlip: true,
      brightnessRange: [0.5, 1.5],
      channelShiftRange: 10,
    });
    const h = ps.filter((p) => p.flipHorizontal).length / ps.length;
    const v = ps.filter((p) => p.flipVertical).length / ps.length;
    assert.ok(h > 0.4 && h < 0.6 && v > 0.4 && v < 0.6, `${h} ${v}`);
    assert.ok(
      ps.every(
        (p) =>
          p.brightness! >= 0.5 && p.brightness! <= 1.5 && Math.abs(p.channelShiftIntensity!) <= 10,
      ),
    );
    assert.ok(draw({ verticalFlip: true }).every((p) => !p.flipHorizontal));
  });

  it('is a pure function of (seed, epoch, stream)', () => {
    const s = { rotationRange: 30, zoomRange: 0.3, horizontalFlip: true };
    assert.deepEqual(
      randomTransform(seededRandom(1, 4, 9), s, 8, 8),
      randomTransform(seededRandom(1, 4, 9), s, 8, 8),
    );
    assert.notDeepEqual(
      randomTransform(seededRandom(1, 4, 9), s, 8, 8),
      randomTransform(seededRandom(1, 5, 9), s, 8, 8),
    );
    assert.notDeepEqual(
      randomTransform(seededRandom(1, 4, 9), s, 8, 8),
      randomTransform(seededRandom(2, 4, 9), s, 8, 8),
    );
  });
});

describe('resizeImage and convertColor', () => {
  it('nearest picks the source pixel under each output pixel centre', () => {
    const src: ImagePixels<Uint8Array> = {
      data: pattern(10, 6, 3, 1),
      height: 6,
      width: 10,
      channels: 1,
    };
    const out = resizeImage(src, 3, 5, 'nearest');
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 5; c++)
        assert.equal(out.data[r * 5 + c], at(src, 2 * r + 1, 2 * c + 1, 0));
    assert.equal(resizeImage(src, 6, 10, 'bilinear'), src); // same size: untouched, as Keras
  });

  it('keepAspectRatio: Keras centre crop box; resizing a box equals cropping first (nearest)', async () => {
    assert.deepEqual(aspectCropBox(500, 375, 64, 64), [62, 0, 437, 375]);
    assert.deepEqual(aspectCropBox(100, 300, 64, 32), [0, 50, 100, 250]);
    assert.deepEqual(aspectCropBox(7, 5, 5, 7), [0, 0, 7, 5]);
    const src: ImagePixels<Uint8Array> = {
      data: pattern(30, 20, 4, 3),
      height: 20,
      width: 30,
      channels: 3,
    };
    const box = aspectCropBox(30, 20, 10, 10); // [5, 0, 25, 20]
    const crop = new Uint8Array(20 * 20 * 3);
    for (let r = 0; r < 20; r++)
      crop.set(src.data.subarray((r * 30 + 5) * 3, (r * 30 + 25) * 3), r * 20 * 3);
    const viaBox = resizeImage(src, 10, 10, 'nearest', box);
    const viaCrop = resizeImage(
      { data: crop, height: 20, width: 20, channels: 3 },
      10,
      10,
      'nearest',
    );
    assert.deepEqual(viaBox.data, viaCrop.data);
    const full = resizeImage(src, 10, 15, 'bilinear', [0, 0, 30, 20]);
    assert.deepEqual(full.data, resizeImage(src, 10, 15, 'bilinear').data);
    const t = await makeTree([
      { path: 'a/wide.png', bytes: await encode(src.data, 30, 20, 3, 'png') },
    ]);
    try {
      const loaded = await loadImage(join(t.root, 'a', 'wide.png'), {
        targetSize: [10, 10],
        keepAspectRatio: true,
      });
      assert.deepEqual(loaded.data, viaCrop.data);
    } finally {
      await t.cleanup();
    }
  });

  it('box filter at an integer factor averages blocks (rounded)', () => {
    const src: ImagePixels<Uint8Array> = {
      data: pattern(8, 4, 1, 1),
      height: 4,
      width: 8,
      channels: 1,
    };
    const out = resizeImage(src, 2, 4, 'box');
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 4; c++) {
        const horiz = [0, 1].map((dr) =>
          Math.round((at(src, 2 * r + dr, 2 * c, 0) + at(src, 2 * r + dr, 2 * c + 1, 0)) / 2),
        );
        assert.ok(Math.abs(out.data[r * 4 + c]! - (horiz[0]! + horiz[1]!) / 2) <= 0.5);
      }
  });

  it('grayscale uses Pillow luma; rgb copies grey; rgba adds opaque alpha; rgb drops alpha', () => {
    const rgb: ImagePixels<Uint8Array> = {
      data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30),
      height: 2,
      width: 2,
      channels: 3,
    };
    assert.deepEqual([...convertColor(rgb, 'grayscale').data], [76, 150, 29, 18]);
    const grey: ImagePixels<Uint8Array> = {
      data: Uint8Array.of(9, 200),
      height: 1,
      width: 2,
      channels: 1,
    };
    assert.deepEqual([...convertColor(grey, 'rgb').data], [9, 9, 9, 200, 200, 200]);
    assert.deepEqual([...convertColor(grey, 'rgba').data], [9, 9, 9, 255, 200, 200, 200, 255]);
    const rgba: ImagePixels<Uint8Array> = {
      data: Uint8Array.of(1, 2, 3, 0),
      height: 1,
      width: 1,
      channels: 4,
    };
    assert.deepEqual([...convertColor(rgba, 'rgb').data], [1, 2, 3]);
  });
});
