import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asTensor, handOver, kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { flip, swapIsCheaper } from './mat-mul-util.js';

/**
 * `_FusedMatMul` (the forward pass of every dense layer) for wasm, computed as
 * `(Wᵀ·Aᵀ)ᵀ` when the weights are much larger than the batch: a speed-up, because XNNPACK
 * repacks its right operand at every call and the weights change at every step (seed CNN's
 * 6272→128 layer at batch 32: 5.7 → 3.6 ms, fastest of 20). Bias and activation are then
 * applied as separate ops. Calls with transpose flags, which the stock kernel sends to a scalar
 * loop, get explicit transposes. Everything else goes straight to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `_FusedMatMul` kernel.
 */
export function fusedMatMulKernel(): KernelConfig {
  return wrapStockKernel('_FusedMatMul', (stock) => (args) => {
    const { inputs, attrs } = args;
    const backend = kernelBackend(args.backend);
    const transposeA = attrs?.['transposeA'] === true;
    const transposeB = attrs?.['transposeB'] === true;
    const a = inputs['a'] as TensorInfo;
    const b = inputs['b'] as TensorInfo;
    const activation = (attrs?.['activation'] as string | undefined) ?? 'linear';
    const swap =
      swapIsCheaper(a.shape, b.shape, transposeA, transposeB) && ACTIVATIONS.has(activation);
    if (!swap && !transposeA && !transposeB) return stock(args);
    const plain = { ...attrs, transposeA: false, transposeB: false };
    if (!swap) {
      const [at, bt] = tf.tidy<[tf.Tensor, tf.Tensor]>(() => [
        flip(asTensor(a, backend), transposeA),
        flip(asTensor(b, backend), transposeB),
      ]);
      try {
        return stock({ inputs: { ...inputs, a: at, b: bt }, backend, attrs: plain });
      } finally {
        at.dispose();
        bt.dispose();
      }
    }
    const out = tf.tidy(() => {
      const input = flip(asTensor(b, backend), !transposeB);
      const weights = flip(asTensor(a, backend), !transposeA);
      const ct = stock({
        inputs: { a: input, b: weights },
        backend,
        attrs: { ...plain, activation: 'linear' },
      });
      let c = flip(tf.engine().makeTensorFromTensorInfo(ct as TensorInfo, backend), true);
      const bias = inputs['bias'];
      if (bias != null) c = tf.add(c, asTensor(bias, backend));
      return activate(
        c,
        activation,
        attrs?.['leakyreluAlpha'] as number | undefined,
        inputs['preluActivationWeights'],
        backend,
      );
    });
    return handOver(out, backend);
  });
}

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu']);

function activate(
  x: tf.Tensor,
  activation: string,
  alpha: number | undefined,
  preluWeights: TensorInfo | undefined,
  backend: KernelBackend,
): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'elu':
      return tf.elu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, alpha ?? 0.2);
    case 'prelu':
      if (preluWeights == null) throw new Error('_FusedMatMul: prelu activation without weights');
      return tf.prelu(x, asTensor(preluWeights, backend));
    default:
      return x;
  }
}
