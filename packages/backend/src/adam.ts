import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import {
  activeNativeContext,
  floatBits,
  MIN_ELEMENT_SHARE,
  type NativeContext,
} from './wasm-kernels/native-kernels.js';
import { nativeKernelsRegistered } from './wasm-kernels/register-wasm-training-kernels.js';

/** A variable's slot as tfjs' AdamOptimizer keeps it (`m` or `v`). */
interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The private state of tfjs' AdamOptimizer that the fused update reads and writes. */
interface AdamState {
  readonly accBeta1: tf.Variable;
  readonly accBeta2: tf.Variable;
  readonly accumulatedFirstMoment: Slot[];
  readonly accumulatedSecondMoment: Slot[];
}

/**
 * tfjs' `AdamOptimizer` whose update runs, on the `wasm` backend with rxfit's native kernels
 * registered, as one pass of native/adam.c per variable (split across the threads for large
 * variables) instead of about 13 element-wise ops. Same arithmetic as tfjs, in float32 and in
 * the same order, so the weights match tfjs' Adam bit for bit. Its state (`m`, `v`, the
 * accumulated betas, `iterations`) is tfjs' own, so `getWeights`, `setWeights`, `getConfig`
 * and serialization behave as tfjs' Adam (the class name stays `'Adam'`). Elsewhere (another
 * backend, `registerWasmTrainingKernels({ native: false })`, a variable that is not float32)
 * it is tfjs' Adam unchanged.
 */
class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  ): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const gradients: (tf.Tensor | undefined)[] = names.map((name, i) =>
      Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name],
    );
    const variables = names.map((name) => tf.engine().registeredVariables[name]);
    const native = fusedContext();
    const fusable = variables.every(
      (w, i) =>
        w != null &&
        w.dtype === 'float32' &&
        (gradients[i] == null ||
          (gradients[i].dtype === 'float32' && gradients[i].size === w.size)),
    );
    if (native == null || !fusable) {
      super.applyGradients(variableGradients);
      return;
    }
    this.update(native, variables as tf.Variable[], gradients);
    this.incrementIterations();
  }

  private update(
    native: NativeContext,
    variables: readonly tf.Variable[],
    gradients: readonly (tf.Tensor | undefined)[],
  ): void {
    const state = this as unknown as AdamState;
    const heap = () => new Float32Array(native.memory.buffer);
    const oneMinus = (acc: tf.Variable) => Math.fround(1 - heap()[native.offset(acc) >> 2]!);
    const scalars = [
      this.beta1,
      1 - this.beta1,
      this.beta2,
      1 - this.beta2,
      oneMinus(state.accBeta1),
      oneMinus(state.accBeta2),
      this.epsilon,
      -this.learningRate,
    ].map(floatBits);
    variables.forEach((w, i) => {
      // tfjs creates both slots before it looks at the gradient, and names them after the
      // variable; the same here, so that getWeights lists the same weights.
      const slot = (list: Slot[], suffix: string) =>
        (list[i] ??= {
          originalName: `${w.name}/${suffix}`,
          variable: tf.tidy(() => tf.zerosLike(w).variable(false)),
        }).variable;
      const m = slot(state.accumulatedFirstMoment, 'm');
      const v = slot(state.accumulatedSecondMoment, 'v');
      const g = gradients[i];
      if (g == null) return;
      // In place where the variable alone holds its buffer; a buffer that another tensor
      // shares (a clone, the tensor given to setWeights) gets a new one, as tfjs' assign does.
      const targets = [m, v, w].map((t) => ({
        t,
        out: inPlace(t) ? null : native.output(t.shape),
      }));
      // Offsets after the allocations (an allocation may grow the memory, never move a buffer).
      const at = [g, m, v, w, ...targets.map(({ t, out }) => out ?? t)].map((t) =>
        native.offset(t),
      );
      native.runSplit('adam', w.size, MIN_ELEMENT_SHARE, at, scalars);
      for (const { t, out } of targets) if (out != null) assignData(t, out);
    });
    tf.tidy(() => {
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
  }
}

/** The native kernels when the active backend is wasm with rxfit's native kernels, else `null`. */
function fusedContext(): NativeContext | null {
  return nativeKernelsRegistered() ? activeNativeContext() : null;
}

/** Whether `t` is the only holder of its buffer (so writing it in place changes nothing else). */
function inPlace(t: tf.Tensor): boolean {
  return tf.backend().refCount(t.dataId) === 1;
}

/** Makes `variable` hold the fresh output `out` (the engine takes it over), as tfjs' assign. */
function assignData(variable: tf.Variable, out: TensorInfo): void {
  tf.tidy(() => variable.assign(tf.engine().makeTensorFromTensorInfo(out, tf.backend())));
}

/**
 * The same as `tf.train.adam`: an Adam optimizer with tfjs' defaults and tfjs' state, whose
 * update is one fused native pass per variable on wasm (with rxfit's kernels registered, as
 * `useBestBackend` does) and tfjs' own update on every other backend. It serializes as tfjs'
 * `'Adam'`, so saved models and optimizer weights load with plain tfjs.
 *
 * ## Example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adam, useBestBackend } from '@rxfit/backend';
 *
 * await useBestBackend();
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
 * model.compile({ optimizer: adam(1e-3), loss: 'meanSquaredError' });
 * ```
 *
 * @param learningRate - The step size. @default 0.001
 * @param beta1 - Decay of the first moment. @default 0.9
 * @param beta2 - Decay of the second moment. @default 0.999
 * @param epsilon - Added to the denominator; `null` takes the backend's epsilon (1e-7 in
 *   float32), as tfjs does. @default null
 * @returns A `tf.AdamOptimizer`.
 */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon: number | null = null,
): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon ?? undefined);
}
