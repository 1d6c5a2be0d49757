import * as tf from '@tensorflow/tfjs';

/**
 * Whether `A·B` is cheaper as `(Bᵀ·Aᵀ)ᵀ` on wasm. XNNPACK repacks the right operand (its
 * "weights") at every call, and here it is a new tensor at every step.
 *
 * Cost model in element passes: a transpose reads and writes once; XNNPACK's packing of the
 * weights with its transposing layout costs about three. Only for unbatched products, the
 * ones XNNPACK runs (batched ones go to the stock scalar loop either way).
 */
export function swapIsCheaper(
  aShape: number[],
  bShape: number[],
  ta: boolean,
  tb: boolean,
): boolean {
  if (batch(aShape) !== 1 || batch(bShape) !== 1) return false;
  const [a0, a1] = aShape.slice(-2) as [number, number];
  const [b0, b1] = bShape.slice(-2) as [number, number];
  const m = ta ? a1 : a0;
  const k = ta ? a0 : a1;
  const n = tb ? b0 : b1;
  const direct = (ta ? m * k : 0) + (tb ? k * n : 0) + 3 * k * n;
  const swapped = (ta ? 0 : m * k) + (tb ? 0 : k * n) + 3 * k * m + m * n;
  return swapped < direct;
}

/** The product of a matmul operand's batch dimensions (all but the last two). */
export function batch(shape: readonly number[]): number {
  return tf.util.sizeFromShape(shape.slice(0, -2));
}

/** `t` with its last two axes swapped, or a cheap clone (same buffer) when `transpose` is false. */
export function flip(t: tf.Tensor, transpose: boolean): tf.Tensor {
  if (!transpose) return t.clone();
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(t, perm);
}
