import * as tf from '@tensorflow/tfjs';
import { pair } from './kernel-plumbing.js';

/**
 * Spreads the rows and columns of `t` ([b, H, W, C]) apart by `stride - 1` zeros, giving
 * [b, (H-1)sh+1, (W-1)sw+1, C]. Built from reshape + pad, because the wasm backend has no
 * scatter-free "upsample with zeros" kernel and strided slices are slow there.
 */
export function zeroInsert(t: tf.Tensor4D, [sh, sw]: [number, number]): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [b, h, w, c] = t.shape;
  const padded = tf.pad(tf.reshape(t, [b * h, 1, w, 1, c]), [
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const spread = tf.reshape<tf.Rank.R4>(padded, [b, h * sh, w * sw, c]);
  return tf.slice(spread, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * Pads rows/columns where an amount is positive and crops where it is negative, so the
 * transposed-convolution recipes work for every explicit padding, not only the usual ones.
 */
export function padOrCrop(
  t: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  let out = t;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [
      [0, 0],
      [Math.max(top, 0), Math.max(bottom, 0)],
      [Math.max(left, 0), Math.max(right, 0)],
      [0, 0],
    ]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = out.shape;
    const t0 = Math.max(-top, 0);
    const l0 = Math.max(-left, 0);
    out = tf.slice(
      out,
      [0, t0, l0, 0],
      [b, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c],
    );
  }
  return out;
}

/** Pads a [b, H, W, C] tensor by a conv `padInfo`; a no-op when all sides are 0. */
export function padSpatial(
  t: tf.Tensor4D,
  p: { top: number; bottom: number; left: number; right: number },
  value = 0,
): tf.Tensor4D {
  if (p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) return t;
  return tf.pad(
    t,
    [
      [0, 0],
      [p.top, p.bottom],
      [p.left, p.right],
      [0, 0],
    ],
    value,
  );
}

/**
 * The geometry of a conv kernel call (output size, padding), read from its attributes the same
 * way for every composed conv gradient. Plain convs ignore `dilations` here: tfjs never calls
 * their gradients with dilation > 1 (core asserts it); depthwise ones honour it.
 */
export function convInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Record<string, unknown>,
  kind: 'conv' | 'depthwise',
): tf.backend_util.Conv2DInfo {
  const depthwise = kind === 'depthwise';
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    pair(attrs['strides'], 'strides'),
    depthwise ? pair(attrs['dilations'] ?? 1, 'dilations') : 1,
    attrs['pad'] as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

/**
 * The geometry arguments of the native convolution kernels (native/conv2d-direct.c and
 * native/conv2d-filter-grad.c take the same twelve, in this order).
 */
export function nativeConvArgs(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}
