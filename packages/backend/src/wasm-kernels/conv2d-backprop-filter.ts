import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { convInfo } from './conv-util.js';
import { composedKernel, shape4 } from './kernel-plumbing.js';

/**
 * `Conv2DBackpropFilter` for wasm, which has none: the filter gradient of `conv2d`.
 *
 * One XNNPACK conv of the transposed input by the transposed `dy`, with stride and dilation
 * swapped. Its cost is dominated by XNNPACK packing `dy` as a filter (the reduction runs over
 * every pixel of the batch); an im2col + matMul version packs a matrix of the same size and
 * measured slower on the seed CNN's first layer (40 against 34 ms in a step), so it was dropped.
 *
 * Dilation > 1 never reaches this kernel: tfjs-core's conv2d gradient asserts it is 1.
 */
export const conv2dBackpropFilterKernel: KernelConfig = composedKernel(
  'Conv2DBackpropFilter',
  ['x', 'dy'],
  ({ x, dy }, attrs) => {
    const x4 = x as tf.Tensor4D;
    const dy4 = dy as tf.Tensor4D;
    if (attrs['dataFormat'] === 'NCHW') {
      throw new Error('Conv2DBackpropFilter on wasm supports only NHWC (channelsLast) data');
    }
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const info = convInfo(shape4(x4, 'x'), filterShape, attrs, 'conv');
    const [kh, kw, ci, co] = filterShape;
    const { top, bottom, left, right } = info.padInfo;
    // r[c, i, j, o] = sum_{n,p,q} xp[n, p*s+i, q*s+j, c] * dy[n, p, q, o] (xp: x padded): a conv
    // of x^T ([ci, H, W, b]) by dy^T ([Ho, Wo, b, co]) with dilation = stride. XNNPACK pads
    // by itself, so the padded copy is never made.
    const r = tf.conv2d(
      tf.transpose(x4, [3, 1, 2, 0]),
      tf.transpose(dy4, [1, 2, 0, 3]),
      1,
      [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      'NHWC',
      [info.strideHeight, info.strideWidth],
    );
    return tf.transpose(tf.slice(r, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
  },
);
