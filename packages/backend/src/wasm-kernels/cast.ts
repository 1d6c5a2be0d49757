import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { shareData, wrapStockKernel } from './kernel-plumbing.js';

/**
 * `Cast` for wasm that shares the input's buffer when the dtype does not change, instead of
 * copying it: a speed-up. tfjs-core's `relu` gradient casts `step(x)`, already float32, to
 * float32, a full copy of each activation (13 calls per seed CNN step). Real conversions go
 * to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `Cast` kernel.
 */
export function castKernel(): KernelConfig {
  return wrapStockKernel('Cast', (stock) => (args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (x.dtype !== args.attrs?.['dtype'] || x.dtype === 'string') return stock(args);
    return shareData(x, args.backend);
  });
}
