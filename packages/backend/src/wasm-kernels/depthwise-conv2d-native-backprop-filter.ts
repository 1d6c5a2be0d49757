import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { convInfo, padSpatial } from './conv-util.js';
import { composedKernel, shape4 } from './kernel-plumbing.js';

/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm, which has none.
 *
 * The batch is folded into the channels so that one depthwise conv with stride and dilation
 * swapped computes every per-example, per-channel correlation; summing over the batch then
 * gives dW. This is the minimum number of multiply-adds and it supports dilation > 1.
 */
export const depthwiseConv2dNativeBackpropFilterKernel: KernelConfig = composedKernel(
  'DepthwiseConv2dNativeBackpropFilter',
  ['x', 'dy'],
  ({ x, dy }, attrs) => {
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const x4 = x as tf.Tensor4D;
    const info = convInfo(shape4(x4, 'x'), filterShape, attrs, 'depthwise');
    const [kh, kw, ci, m] = filterShape;
    const [b] = x4.shape;
    const [, ho, wo] = (dy as tf.Tensor4D).shape;
    const xp = padSpatial(x4, info.padInfo);
    const [, hp, wp] = xp.shape;
    const xt: tf.Tensor4D = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, b * ci]);
    const ft = tf.reshape(tf.transpose(tf.reshape(dy, [b, ho, wo, ci, m]), [1, 2, 0, 3, 4]), [
      ho,
      wo,
      b * ci,
      m,
    ]);
    const r = tf.depthwiseConv2d(
      xt,
      ft as tf.Tensor4D,
      [info.dilationHeight, info.dilationWidth],
      'valid',
      'NHWC',
      [info.strideHeight, info.strideWidth],
    );
    const cut = tf.slice(r, [0, 0, 0, 0], [1, kh, kw, b * ci * m]);
    return tf.sum(tf.reshape(cut, [kh, kw, b, ci, m]), 2);
  },
);
