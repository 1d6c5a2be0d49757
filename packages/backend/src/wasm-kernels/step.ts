import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { floatBits, nativeContext } from './native-kernels.js';

/**
 * `Step` for wasm on float32 tensors as the native SIMD pass of native/elementwise.c, split
 * across threads when large: a speed-up. tfjs-core's `relu` gradient is `dy * step(x)`, and
 * the stock kernel is a scalar C loop (several ms for the seed CNN's first activation, 16 MB).
 * Other dtypes go to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `Step` kernel.
 */
export function stepKernel(): KernelConfig {
  return wrapStockKernel('Step', (stock) => (args) => {
    const x = args.inputs['x'] as TensorInfo;
    const native = nativeContext(kernelBackend(args.backend));
    if (native == null || x.dtype !== 'float32') return stock(args);
    return native.runElementwise('step', [x], [floatBits(Number(args.attrs?.['alpha'] ?? 0))]);
  });
}
