import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { convInfo, nativeConvArgs } from './conv-util.js';
import { kernelBackend, pair, wrapStockKernel } from './kernel-plumbing.js';
import { nativeContext } from './native-kernels.js';

/** The most input channels measured faster than XNNPACK (120-140% of the matMul peak, against ~100%). */
const MAX_DIRECT_CHANNELS = 128;
/** The least output rows a thread gets (waking a thread costs tens of µs). */
const MIN_ROWS = 8;

/**
 * `Conv2D` for wasm with a fast path for float32 NHWC convs without dilation whose output
 * channels are a multiple of 16 and input channels at most 128: the hand-written SIMD kernel of
 * native/conv2d-direct.c, its output rows split across the threads. XNNPACK packs the filter at
 * every call and, with 3 input channels (a first layer), reaches about half the matMul peak
 * (its reduction is only 27 long); the direct kernel measured 120-140% where XNNPACK gave
 * 97-106%. It also computes `Conv2DBackpropInput` (a conv of `dy` by the reversed filter).
 * Every other call goes to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `Conv2D` kernel.
 */
export function conv2dKernel(): KernelConfig {
  return wrapStockKernel('Conv2D', (stock) => (args) => {
    const x = args.inputs['x'] as TensorInfo;
    const filter = args.inputs['filter'] as TensorInfo;
    const attrs = args.attrs ?? {};
    const native = nativeContext(kernelBackend(args.backend));
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    const direct =
      native != null &&
      x.shape.length === 4 &&
      filter.shape.length === 4 &&
      x.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      attrs['dataFormat'] !== 'NCHW' &&
      pair(attrs['dilations'] ?? 1, 'dilations').every((d) => d === 1) &&
      ci <= MAX_DIRECT_CHANNELS &&
      co % 16 === 0;
    if (!direct) return stock(args);
    const [b, h, w] = x.shape as [number, number, number, number];
    const info = convInfo([b, h, w, ci], [kh, kw, ci, co], attrs, 'conv');
    const out = native.output([b, info.outHeight, info.outWidth, co]);
    const at = [native.offset(x), native.offset(filter), native.offset(out)];
    native.runSplit('conv2d_direct', b * info.outHeight, MIN_ROWS, at, nativeConvArgs(info));
    return out;
  });
}
