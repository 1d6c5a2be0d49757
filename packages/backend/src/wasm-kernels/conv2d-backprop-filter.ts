import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { convInfo, nativeConvArgs } from './conv-util.js';
import { composedKernel, kernelBackend, shape4, WASM } from './kernel-plumbing.js';
import { nativeContext } from './native-kernels.js';

/**
 * `Conv2DBackpropFilter` for wasm, which has none: the filter gradient of `conv2d`, composed
 * of stock kernels.
 *
 * One XNNPACK conv of the transposed input by the transposed `dy`, with stride and dilation
 * swapped. XNNPACK packs `dy` as a filter at every call and streams the whole reduction (every
 * pixel of the batch) from memory per output tile: 22% of the matMul peak on the seed CNN's
 * first layer, 58% on its second. {@link conv2dBackpropFilterKernel} uses it only where the
 * native kernel does not apply.
 *
 * Dilation > 1 never reaches this kernel: tfjs-core's conv2d gradient asserts it is 1.
 */
export const conv2dBackpropFilterComposedKernel: KernelConfig = composedKernel(
  'Conv2DBackpropFilter',
  ['x', 'dy'],
  ({ x, dy }, attrs) => {
    const x4 = x as tf.Tensor4D;
    const dy4 = dy as tf.Tensor4D;
    assertNhwc(attrs['dataFormat']);
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

/**
 * `Conv2DBackpropFilter` for wasm: the hand-written SIMD kernel of native/conv2d-filter-grad.c
 * where it applies (float32, output channels a multiple of 4), reading `x` and `dy` in place;
 * otherwise {@link conv2dBackpropFilterComposedKernel}.
 */
export const conv2dBackpropFilterKernel: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: (args) => {
    const { inputs, attrs = {} } = args;
    const backend = kernelBackend(args.backend);
    const x = inputs['x'] as TensorInfo;
    const dy = inputs['dy'] as TensorInfo;
    assertNhwc(attrs['dataFormat']);
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const [, , ci, co] = filterShape;
    const native = nativeContext(backend);
    if (native == null || co % 4 !== 0 || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      return conv2dBackpropFilterComposedKernel.kernelFunc(args);
    }
    const [b, h, w] = x.shape as [number, number, number, number];
    const info = convInfo([b, h, w, ci], filterShape, attrs, 'conv');
    // Shares of the batch, each summed into its own zeroed gradient, then added in order.
    const head = [native.offset(x), native.offset(dy)];
    return native.runSplitSummed('conv2d_filter_grad', b, 1, filterShape, true, head, nativeConvArgs(info));
  },
};

function assertNhwc(dataFormat: unknown): void {
  if (dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on wasm supports only NHWC (channelsLast) data');
  }
}
