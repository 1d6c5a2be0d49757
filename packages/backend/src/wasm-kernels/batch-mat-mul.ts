import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asTensor, handOver, kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { flip, swapIsCheaper } from './mat-mul-util.js';

/**
 * `BatchMatMul` for wasm with the transpose flags done as an explicit `Transpose` followed by
 * the stock kernel without flags: a speed-up, because the stock kernel sends every call with
 * a flag (or with a batch > 1) to a scalar C++ loop instead of XNNPACK, about 10 times slower
 * (dense 6272→128 at batch 32: transposeA 19.5 → 1.8 ms). Every dense layer's backward pass
 * uses these flags.
 *
 * XNNPACK repacks the right operand (as "weights") at every call, because it is a new
 * tensor every step. When that operand is much larger than the left one (a dense layer's
 * forward pass while training, `x [32,6272] · W [6272,128]`, or its dx, `dy [32,128] · Wᵀ`),
 * the product is computed transposed, `Cᵀ = Bᵀ·Aᵀ`, so the small operand is the one packed,
 * and `Cᵀ` is transposed back. Other calls without flags go straight to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `BatchMatMul` kernel.
 */
export function batchMatMulKernel(): KernelConfig {
  return wrapStockKernel('BatchMatMul', (stock) => ({ inputs, backend: anyBackend, attrs }) => {
    const transposeA = attrs?.['transposeA'] === true;
    const transposeB = attrs?.['transposeB'] === true;
    const backend = kernelBackend(anyBackend);
    const aInfo = inputs['a'] as TensorInfo;
    const bInfo = inputs['b'] as TensorInfo;
    const swap = swapIsCheaper(aInfo.shape, bInfo.shape, transposeA, transposeB);
    if (!swap && !transposeA && !transposeB) return stock({ inputs, backend, attrs });
    if (swap) {
      const out = tf.tidy(() => {
        // Cᵀ = Bᵀ·Aᵀ: the flags say which of Bᵀ and Aᵀ are already stored that way.
        const input = flip(asTensor(bInfo, backend), !transposeB);
        const weights = flip(asTensor(aInfo, backend), !transposeA);
        const ct = stock({
          inputs: { a: input, b: weights },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
        return flip(tf.engine().makeTensorFromTensorInfo(ct as TensorInfo, backend), true);
      });
      return handOver(out, backend);
    }
    const [a, b] = tf.tidy<[tf.Tensor, tf.Tensor]>(() => [
      flip(asTensor(inputs['a'] as TensorInfo, backend), transposeA),
      flip(asTensor(inputs['b'] as TensorInfo, backend), transposeB),
    ]);
    try {
      return stock({
        inputs: { a, b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      // The stock kernel's output is a fresh buffer; our transposed inputs are not needed any more.
      a.dispose();
      b.dispose();
    }
  });
}
