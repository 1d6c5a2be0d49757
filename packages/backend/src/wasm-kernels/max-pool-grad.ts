import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { padSpatial, zeroInsert } from './conv-util.js';
import { composedKernel, kernelBackend, pair, WASM } from './kernel-plumbing.js';
import { nativeContext } from './native-kernels.js';

/**
 * A correct `MaxPoolGrad` for wasm, composed of stock kernels. The stock kernel seeds its
 * running maximum with `FLT_MIN` (+1.2e-38) instead of -inf, so every window whose values are
 * all <= 0 sends its gradient to the wrong cell: silently wrong training after a linear conv,
 * tanh, ELU or BatchNorm. This kernel uses the forward output `y` (which the stock one
 * ignores) and matches the cpu backend exactly, ties included (the first maximum in
 * row-major window order takes the gradient). {@link maxPoolGradKernel} uses it where the
 * native kernel does not apply.
 */
export const maxPoolGradComposedKernel: KernelConfig = composedKernel(
  'MaxPoolGrad',
  ['dy', 'input', 'output'],
  ({ dy, input, output }, attrs) => {
    const x = input as tf.Tensor4D;
    const info = poolInfo(x.shape, output.shape, attrs);
    return tiled(info)
      ? maxPoolGradTiled(
          dy as tf.Tensor4D,
          x,
          output as tf.Tensor4D,
          info.filterHeight,
          info.filterWidth,
        )
      : maxPoolGradGeneral(dy as tf.Tensor4D, x, output as tf.Tensor4D, info);
  },
);

/**
 * A correct `MaxPoolGrad` for wasm (see {@link maxPoolGradComposedKernel} for the stock
 * kernel's bug). Windows that tile the input (window = stride, no padding: the usual pooling)
 * go to the hand-written SIMD kernel of native/max-pool-grad.c, one pass over the data; any
 * other window, stride or padding to the composition.
 */
export const maxPoolGradKernel: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: WASM,
  kernelFunc: (args) => {
    const backend = kernelBackend(args.backend);
    const dy = args.inputs['dy'] as TensorInfo;
    const x = args.inputs['input'] as TensorInfo;
    const y = args.inputs['output'] as TensorInfo;
    const native = nativeContext(backend);
    const shape = x.shape as [number, number, number, number];
    const info = poolInfo(shape, y.shape, args.attrs ?? {});
    const float = [dy, x, y].every((t) => t.dtype === 'float32');
    if (native == null || !float || !tiled(info)) {
      return maxPoolGradComposedKernel.kernelFunc(args);
    }
    const [b, h, w, c] = shape;
    const out = native.output(shape);
    const at = [native.offset(x), native.offset(y), native.offset(dy), native.offset(out)];
    const dims = [h, w, c, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth];
    native.runSplit('max_pool_grad_tiled', b, 1, at, dims);
    return out;
  },
};

/** The pooling geometry, checked against the forward output tfjs-core hands over. */
function poolInfo(
  inputShape: number[],
  outputShape: number[],
  attrs: Record<string, unknown>,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computePool2DInfo(
    inputShape as [number, number, number, number],
    pair(attrs['filterSize'], 'filterSize'),
    pair(attrs['strides'], 'strides'),
    1,
    attrs['pad'] as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  if (info.outHeight !== outputShape[1] || info.outWidth !== outputShape[2]) {
    throw new Error(
      `MaxPoolGrad: the forward output [${outputShape.join(', ')}] does not match the pooling ` +
        `attributes (output ${info.outHeight}x${info.outWidth}). tfjs-core's maxPool gradient ` +
        `drops dimRoundingMode, and the wasm forward MaxPool is wrong anyway when 'ceil' ` +
        `rounding adds a window: use 'valid' or 'same' padding.`,
    );
  }
  return info;
}

/** Whether the windows tile the input: non-overlapping, unpadded, inside the input. */
function tiled(info: tf.backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  return (
    kh === info.strideHeight &&
    kw === info.strideWidth &&
    p.top === 0 &&
    p.bottom === 0 &&
    p.left === 0 &&
    p.right === 0 &&
    kh * kw <= MAX_TILED_WINDOW &&
    // 'ceil' rounding can add a window that runs past the input.
    info.outHeight * kh <= info.inHeight &&
    info.outWidth * kw <= info.inWidth
  );
}

/** Window sizes up to this use the tiled paths: the composition's priorities 2^k stay exact in float32. */
const MAX_TILED_WINDOW = 16;

/**
 * Non-overlapping, unpadded windows (the usual `pool = stride`): every input cell belongs to
 * at most one window, so the whole gradient is a few element-wise passes over `x` seen as
 * `[b, Ho, kh, Wo, kw, C]`, with no transposes and no per-offset loop.
 *
 * Ties: cell k of a window (row-major) gets priority 2^(K-1-k). A depthwise conv with stride
 * = window sums the priorities of the cells that hold the maximum; cell k is the first
 * maximum exactly when that sum is below 2^(K-k).
 */
function maxPoolGradTiled(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  kh: number,
  kw: number,
): tf.Tensor {
  const [b, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  const k = kh * kw;
  const used =
    ho * kh === h && wo * kw === w ? x : tf.slice(x, [0, 0, 0, 0], [b, ho * kh, wo * kw, c]);
  const x6 = tf.reshape(used, [b, ho, kh, wo, kw, c]);
  const y6 = tf.reshape(y, [b, ho, 1, wo, 1, c]);
  // y is a copy of one of the window's values, so y - x is exactly 0 at the maxima and > 0 elsewhere.
  const hit = tf.sub(1, tf.step(tf.sub(y6, x6)));
  let grad: tf.Tensor;
  if (k === 1) {
    grad = tf.mul(hit, tf.reshape(dy, [b, ho, 1, wo, 1, c]));
  } else {
    const prio: number[] = [];
    const limit: number[] = [];
    for (let i = 0; i < k; i++) {
      limit.push(2 ** (k - i));
      for (let ch = 0; ch < c; ch++) prio.push(2 ** (k - 1 - i));
    }
    const score = tf.depthwiseConv2d(
      tf.reshape<tf.Rank.R4>(hit, [b, ho * kh, wo * kw, c]),
      tf.tensor4d(prio, [kh, kw, c, 1]),
      [kh, kw],
      'valid',
    );
    const first = tf.step(
      tf.sub(tf.tensor(limit, [1, 1, kh, 1, kw, 1]), tf.reshape(score, [b, ho, 1, wo, 1, c])),
    );
    grad = tf.mul(tf.mul(hit, first), tf.reshape(dy, [b, ho, 1, wo, 1, c]));
  }
  const dx = tf.reshape<tf.Rank.R4>(grad, [b, ho * kh, wo * kw, c]);
  return padSpatial(dx, { top: 0, bottom: h - ho * kh, left: 0, right: w - wo * kw });
}

/**
 * Any window, stride and padding: one pass per window offset, in the cpu's row-major order.
 * Each pass takes the cells equal to the window maximum that no earlier offset has claimed,
 * and puts `dy` back at those cells (spread by the stride, shifted by the offset). Padding is
 * -inf, so it never wins.
 */
function maxPoolGradGeneral(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor {
  const [b, h, w, c] = x.shape;
  const {
    outHeight: ho,
    outWidth: wo,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const p = info.padInfo;
  // 'ceil' rounding can put the last windows past the padded input: extend with -inf too.
  const needH = (ho - 1) * sh + kh;
  const needW = (wo - 1) * sw + kw;
  const bottom = Math.max(p.bottom, needH - h - p.top);
  const right = Math.max(p.right, needW - w - p.left);
  const xp = padSpatial(x, { top: p.top, bottom, left: p.left, right }, -Infinity);
  const [, hp, wp] = xp.shape;
  let free: tf.Tensor = tf.onesLike(y);
  let acc: tf.Tensor4D | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const xk =
        sh === 1 && sw === 1
          ? tf.slice(xp, [0, i, j, 0], [b, ho, wo, c])
          : tf.stridedSlice(
              xp,
              [0, i, j, 0],
              [b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c],
              [1, sh, sw, 1],
            );
      const mine = tf.mul(tf.sub(1, tf.step(tf.sub(y, xk))), free);
      free = tf.sub(free, mine);
      const spread = zeroInsert(tf.mul<tf.Tensor4D>(mine, dy), [sh, sw]);
      const placed: tf.Tensor4D = tf.pad(spread, [
        [0, 0],
        [i, hp - i - spread.shape[1]],
        [j, wp - j - spread.shape[2]],
        [0, 0],
      ]);
      acc = acc == null ? placed : tf.add<tf.Tensor4D>(acc, placed);
    }
  }
  if (acc == null) throw new Error('MaxPoolGrad: empty pooling window');
  return tf.slice(acc, [0, p.top, p.left, 0], [b, h, w, c]);
}
