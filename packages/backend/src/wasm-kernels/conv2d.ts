import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { convInfo } from './conv-util.js';
import { kernelBackend, pair, wrapStockKernel } from './kernel-plumbing.js';
import { nativeContext } from './native-kernels.js';

/** Input channels up to this count as thin: XNNPACK's GEMM reduction is then kh·kw·ci short. */
const MAX_THIN_CHANNELS = 4;

/**
 * `Conv2D` for wasm with a fast path for thin layers (1 to 4 input channels, the first layer
 * of an image model, output channels a multiple of 16): the hand-written SIMD kernel of
 * native/conv2d-thin.c. With 3 input channels the stock XNNPACK conv reaches about half the
 * matMul peak (its reduction is only 27 long). Every other call goes to the stock kernel.
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
    const thin =
      native != null &&
      x.shape.length === 4 &&
      filter.shape.length === 4 &&
      x.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      attrs['dataFormat'] !== 'NCHW' &&
      pair(attrs['dilations'] ?? 1, 'dilations').every((d) => d === 1) &&
      ci <= MAX_THIN_CHANNELS &&
      co % 16 === 0;
    if (!thin) return stock(args);
    const [b, h, w] = x.shape as [number, number, number, number];
    const info = convInfo([b, h, w, ci], [kh, kw, ci, co], attrs, 'conv');
    const out = native.output([b, info.outHeight, info.outWidth, co]);
    const at = [native.offset(x), native.offset(filter), native.offset(out)];
    const dims = [h, w, ci, info.outHeight, info.outWidth, co, kh, kw];
    const rest = [info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
    native.run(
      'conv2d_thin',
      native.split(b).map(([n0, n1]) => [...at, n0, n1, ...dims, ...rest]),
    );
    return out;
  });
}
