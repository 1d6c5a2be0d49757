import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asTensor, handOver, kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { batch, flip, swapIsCheaper } from './mat-mul-util.js';
import { nativeContext, type NativeContext } from './native-kernels.js';

/** A product counts as skinny, and goes native, when its batch side (m or k) is at most this. */
const MAX_SKINNY = 64;

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
 * Skinny unbatched products (the batch side, m or k, at most 64, as in a dense layer's forward
 * pass and its dW) without `transposeB` and with n a multiple of 8 run the native GEMM of
 * native/gemm.c instead: it reads both operands in place (`transposeA` is a stride), never
 * repacks, and splits the rows across threads.
 *
 * @param nativeGemm - Whether skinny products may use the native GEMM.
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `BatchMatMul` kernel.
 */
export function batchMatMulKernel(nativeGemm = true): KernelConfig {
  return wrapStockKernel('BatchMatMul', (stock) => ({ inputs, backend: anyBackend, attrs }) => {
    const transposeA = attrs?.['transposeA'] === true;
    const transposeB = attrs?.['transposeB'] === true;
    const backend = kernelBackend(anyBackend);
    const aInfo = inputs['a'] as TensorInfo;
    const bInfo = inputs['b'] as TensorInfo;
    const native = nativeGemm ? nativeContext(backend) : null;
    if (native != null && !transposeB) {
      const out = skinnyProduct(native, aInfo, bInfo, transposeA);
      if (out != null) return out;
    }
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

/**
 * `C = op(A)·B` on the native GEMM for an unbatched skinny product with n a multiple of 8, or
 * `undefined` when the call is not one (the caller then takes the stock paths).
 */
function skinnyProduct(
  native: NativeContext,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (a.shape.length < 2 || b.shape.length < 2 || batch(a.shape) !== 1 || batch(b.shape) !== 1) {
    return undefined;
  }
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [k, n] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? a1 : a0;
  const skinny = Math.min(m, k) <= MAX_SKINNY;
  if ((transposeA ? a0 : a1) !== k || k === 0 || n % 8 !== 0 || !skinny) return undefined;
  const rank = Math.max(a.shape.length, b.shape.length);
  const out = native.output([...Array<number>(rank - 2).fill(1), m, n]);
  const at = [native.offset(a), native.offset(b), native.offset(out)];
  // A(i, p) at i * rowStride + p * colStride.
  const strides = transposeA ? [1, m] : [k, 1];
  native.runSplit('gemm', m, 16, at, [n, k, ...strides]);
  return out;
}
