import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig } from '@tensorflow/tfjs';
import { convInfo, padOrCrop, zeroInsert } from './conv-util.js';
import { composedKernel, shape4 } from './kernel-plumbing.js';
import { nativeContext } from './native-kernels.js';

/**
 * `Conv2DBackpropInput` for wasm rebuilt on the XNNPACK forward conv: a speed-up, the stock
 * kernel is a plain C++ loop 3 to 10 times slower on typical layers.
 *
 * dx is the full correlation of `dy` (spread by the stride) with the filter turned by 180
 * degrees and its channel axes swapped: `conv2d(padOrCrop(zeroInsert(dy)), reverse(W^T), 1)`.
 *
 * @param native - Whether the turned filter is written in one pass over the wasm heap (else a
 *   `Transpose` and a `Reverse`, as in 0.1).
 * @returns The kernel config.
 */
export const conv2dBackpropInputKernel = (native: boolean): KernelConfig =>
  composedKernel('Conv2DBackpropInput', ['dy', 'filter'], ({ dy, filter }, attrs, backend) => {
    if (attrs['dataFormat'] === 'NCHW') {
      throw new Error('Conv2DBackpropInput on wasm supports only NHWC (channelsLast) data');
    }
    const inputShape = attrs['inputShape'] as [number, number, number, number];
    const w = filter as tf.Tensor4D;
    const info = convInfo(inputShape, shape4(w, 'filter'), attrs, 'conv');
    const [kh, kw] = w.shape;
    const [, h, wd] = inputShape;
    const { top, left } = info.padInfo;
    const dyu = zeroInsert(dy as tf.Tensor4D, [info.strideHeight, info.strideWidth]);
    const pads = [
      kh - 1 - top,
      h + top - dyu.shape[1],
      kw - 1 - left,
      wd + left - dyu.shape[2],
    ] as const;
    const wr =
      (native ? turnedFilter(w, backend) : null) ??
      tf.reverse<tf.Tensor4D>(tf.transpose(w, [0, 1, 3, 2]), [0, 1]);
    if (pads.every((p) => p >= 0)) {
      // The usual case: let XNNPACK pad, instead of copying dy into a padded tensor.
      return tf.conv2d(dyu, wr, 1, [
        [0, 0],
        [pads[0], pads[1]],
        [pads[2], pads[3]],
        [0, 0],
      ]);
    }
    return tf.conv2d(padOrCrop(dyu, ...pads), wr, 1, 'valid');
  });

/**
 * `reverse(transpose(w, [0, 1, 3, 2]), [0, 1])` of a float32 filter `[kh, kw, ci, co]`, copied
 * in one loop over the wasm heap (a filter is small: a Transpose and a Reverse cost more in
 * dispatch than in copying), as a tensor of the current scope; `null` when the native kernels'
 * memory is unreachable or the filter is not float32.
 */
function turnedFilter(w: tf.Tensor4D, backend: KernelBackend): tf.Tensor4D | null {
  const native = nativeContext(backend);
  if (native == null || w.dtype !== 'float32') return null;
  const [kh, kw, ci, co] = w.shape;
  const out = native.output([kh, kw, co, ci]);
  // Read the buffer after output(): its malloc may have grown the memory.
  const heap = new Float32Array(native.memory.buffer);
  const from = native.offset(w) >> 2;
  const to = native.offset(out) >> 2;
  for (let tap = 0; tap < kh * kw; tap++) {
    // Tap (a, b) of the result is tap (kh-1-a, kw-1-b) of w: the taps in reverse order.
    const src = from + (kh * kw - 1 - tap) * ci * co;
    const dst = to + tap * ci * co;
    for (let i = 0; i < ci; i++)
      for (let j = 0; j < co; j++) heap[dst + j * ci + i] = heap[src + i * co + j]!;
  }
  return tf.engine().makeTensorFromTensorInfo(out, backend) as tf.Tensor4D;
}
