import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { shareData, wrapStockKernel } from './kernel-plumbing.js';

/**
 * `Identity` for wasm that shares the input's buffer (one more reference) instead of copying
 * it, as the cpu backend does: a speed-up. tfjs-core's engine clones, through this kernel,
 * every tensor it saves for the backward pass, so a training step of the seed CNN made 58
 * copies, several of the 16 MB activations among them. No wasm kernel writes into its
 * inputs, so sharing is safe; `Reshape` on wasm shares buffers the same way. Strings go to
 * the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `Identity` kernel.
 */
export function identityKernel(): KernelConfig {
  return wrapStockKernel('Identity', (stock) => (args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (x.dtype === 'string') return stock(args);
    return shareData(x, args.backend);
  });
}
