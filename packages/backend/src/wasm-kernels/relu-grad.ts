import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { kernelBackend, WASM } from './kernel-plumbing.js';
import { activeNativeContext, nativeContext } from './native-kernels.js';

/** The wasm-only kernel of the fused relu gradient: inputs `dy` and `x`, same shape, float32. */
const RELU_GRAD = 'RxfitReluGrad';

/**
 * `RxfitReluGrad` for wasm: `dy · step(x)` (tfjs-core's relu gradient, `mul(dy, step(x))`) in
 * one pass of native/elementwise.c, split across threads when large, instead of a `Step` and a
 * `Multiply` that each go over the activation. The same float32 product, NaN, ±Inf and −0 as
 * there. Only the relu gradient of {@link reluGradient} calls it, and only when the backend's
 * native kernels are reachable and both inputs are float32 of one shape.
 */
export const reluGradKernel: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: WASM,
  kernelFunc: ({ inputs, backend }) => {
    const dy = inputs['dy'] as TensorInfo;
    const x = inputs['x'] as TensorInfo;
    const native = nativeContext(kernelBackend(backend));
    if (native == null) throw new Error(`${RELU_GRAD}: the native wasm kernels are unreachable`);
    return native.runElementwise('relu_grad', [dy, x]);
  },
};

/** The gradient configs made here, so that the one they replaced is never lost. */
const ours = new WeakSet<GradConfig>();
/** tfjs' own relu gradient (or whatever was registered before ours): the fallback. */
let stockReluGradient: GradConfig | undefined;

/**
 * Registers, for `Relu`, a gradient that runs {@link reluGradKernel} when the active backend is
 * wasm with rxfit's native kernels (and `dy`, `x` are float32 of one shape) and tfjs' own
 * gradient function everywhere else (`native: true`); or puts tfjs' own back (`native: false`).
 * Its own gradient (for a gradient of a gradient) is registered too. Gradients are global in
 * tfjs, not per backend: hence the dispatch.
 *
 * @param native - Whether to register the dispatching gradient or restore tfjs' own.
 */
export function registerReluGradient(native: boolean): void {
  const current = tf.getGradient('Relu') as GradConfig | undefined;
  if (current != null && !ours.has(current)) stockReluGradient = current;
  const stock = stockReluGradient;
  // tfjs-core registers a relu gradient when it loads; without one there is nothing to wrap.
  if (stock == null) return;
  if (!native) {
    tf.registerGradient(stock);
    return;
  }
  const config: GradConfig = {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const run = x != null && !Array.isArray(dy) ? fused(dy, x) : null;
      return run != null ? { x: run } : stock.gradFunc(dy, saved, attrs);
    },
  };
  ours.add(config);
  tf.registerGradient(config);
  tf.registerGradient({
    kernelName: RELU_GRAD,
    inputsToSave: ['x'],
    // d/d(dy) of dy · step(x) is step(x); d/dx is 0 (as tfjs' Step gradient says).
    gradFunc: (ddy, saved) => {
      const x = saved[0]!;
      const g = ddy as tf.Tensor;
      return {
        dy: fused(g, x) ?? (() => tf.mul(g, tf.step(x))),
        x: () => tf.zerosLike(x),
      };
    },
  });
}

/** The relu gradient as {@link reluGradKernel}, when it applies; else `null`. */
function fused(dy: tf.Tensor, x: tf.Tensor): (() => tf.Tensor) | null {
  const applies =
    dy.dtype === 'float32' &&
    x.dtype === 'float32' &&
    tf.util.arraysEqual(dy.shape, x.shape) &&
    activeNativeContext() != null;
  return applies ? () => tf.engine().runKernel<tf.Tensor>(RELU_GRAD, { dy, x }) : null;
}
