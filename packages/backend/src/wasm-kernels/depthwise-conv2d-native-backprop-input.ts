import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { convInfo, padOrCrop, zeroInsert } from './conv-util.js';
import { composedKernel, shape4 } from './kernel-plumbing.js';

/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm, which has none.
 *
 * A depthwise full correlation of the stride-spread `dy` with the filter turned by 180
 * degrees (one channel per input-channel × multiplier), then a sum over the multiplier.
 * Dilation is honoured, unlike the cpu backend's kernel, which ignores it.
 */
export const depthwiseConv2dNativeBackpropInputKernel: KernelConfig = composedKernel(
  'DepthwiseConv2dNativeBackpropInput',
  ['dy', 'filter'],
  ({ dy, filter }, attrs) => {
    const inputShape = attrs['inputShape'] as [number, number, number, number];
    const w = filter as tf.Tensor4D;
    const info = convInfo(inputShape, shape4(w, 'filter'), attrs, 'depthwise');
    const [kh, kw, ci, m] = w.shape;
    const [b, h, wd] = inputShape;
    const { top, left } = info.padInfo;
    const khe = (kh - 1) * info.dilationHeight + 1;
    const kwe = (kw - 1) * info.dilationWidth + 1;
    const dyu = zeroInsert(dy as tf.Tensor4D, [info.strideHeight, info.strideWidth]);
    const dyp = padOrCrop(
      dyu,
      khe - 1 - top,
      h + top - dyu.shape[1],
      kwe - 1 - left,
      wd + left - dyu.shape[2],
    );
    const wr = tf.reshape<tf.Rank.R4>(tf.reverse(w, [0, 1]), [kh, kw, ci * m, 1]);
    const r = tf.depthwiseConv2d(dyp, wr, 1, 'valid', 'NHWC', [
      info.dilationHeight,
      info.dilationWidth,
    ]);
    return m === 1 ? r : tf.sum(tf.reshape(r, [b, h, wd, ci, m]), -1);
  },
);
