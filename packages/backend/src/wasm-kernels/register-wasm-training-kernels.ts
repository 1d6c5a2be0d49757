import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { batchMatMulKernel } from './batch-mat-mul.js';
import { castKernel } from './cast.js';
import { conv2dKernel } from './conv2d.js';
import {
  conv2dBackpropFilterComposedKernel,
  conv2dBackpropFilterKernel,
} from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterKernel } from './depthwise-conv2d-native-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputKernel } from './depthwise-conv2d-native-backprop-input.js';
import { reRegister, stockKernel, WASM } from './kernel-plumbing.js';
import { threadedBinaryKernel, threadedReluKernel } from './elementwise.js';
import { fusedMatMulKernel } from './fused-mat-mul.js';
import { identityKernel } from './identity.js';
import { maxPoolGradComposedKernel, maxPoolGradKernel } from './max-pool-grad.js';
import { registerReluGradient, reluGradKernel } from './relu-grad.js';
import { stepKernel } from './step.js';
import { sumKernel } from './sum.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

/** Whether the last {@link registerWasmTrainingKernels} call registered the native kernels. */
let nativeRegistered = false;

/**
 * Whether rxfit's native kernels are registered on wasm: {@link registerWasmTrainingKernels}
 * ran (as `useBestBackend` does when it picks wasm), without `native: false` the last time.
 * The fused Adam update (`adam()`) is used only then.
 */
export function nativeKernelsRegistered(): boolean {
  return nativeRegistered;
}

/**
 * Options of {@link registerWasmTrainingKernels}.
 *
 * ## Example
 * ```ts
 * import { registerWasmTrainingKernels, type WasmTrainingKernelsOptions } from '@rxfit/backend';
 *
 * const options: WasmTrainingKernelsOptions = { native: false };
 * registerWasmTrainingKernels(options);
 * ```
 */
export interface WasmTrainingKernelsOptions {
  /**
   * Use the hand-written wasm SIMD kernels (`native/*.c`) where they apply, and the
   * buffer-sharing `Identity` and `Cast`. `false` registers the 0.1 kernel set (compositions of stock
   * XNNPACK kernels only, the stock `Identity`, `Cast`, `Conv2D`, `Step`, `Multiply`, `Add`
   * and `Relu`), and `adam()` then runs tfjs' own Adam update: for benchmarks
   * (`bench/wasm-kernels.ts` compares both) and as a way out should a native kernel misbehave.
   * @default true
   */
  readonly native?: boolean;
}

/**
 * Registers on the `wasm` backend the kernels it needs to train every tfjs-layers layer
 * (except dilated convolutions, which no backend can train): the four it lacks, a correct
 * `MaxPoolGrad` in place of the stock one, and more faster replacements (`Conv2DBackpropInput`,
 * `BatchMatMul`, `Sum` over the image axes, `_FusedMatMul`, `Identity`, `Cast`, `Conv2D`,
 * `Step`; large `Multiply`, `Add` and `Relu` with threads).
 * `Conv2DBackpropFilter`, `MaxPoolGrad`, `Conv2D` (up to 128 input channels), `Step`, the bias gradient's
 * `Sum` run hand-written wasm SIMD kernels where they apply (see the options).
 *
 * It also registers a new wasm-only kernel, `RxfitReluGrad` (the relu gradient `dy · step(x)` in
 * one native pass), and a gradient for `Relu`: tfjs keeps one gradient per op for all backends,
 * so this one runs `RxfitReluGrad` when the active backend is wasm with the native kernels and
 * tfjs' own relu gradient function everywhere else. `native: false` puts tfjs' own back.
 *
 * Safe to call more than once and before or after `tf.setBackend('wasm')`: each kernel is
 * unregistered first, and the wrappers always wrap the stock kernels.
 * `@tensorflow/tfjs-backend-wasm` must have been imported (it registers the stock kernels); `useBestBackend` does that itself.
 * This module does not import it, so that importing `@rxfit/backend` leaves the backend
 * registry alone (the wasm package registers itself as the highest-priority backend).
 *
 * ## Example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmTrainingKernels } from '@rxfit/backend';
 *
 * const patched = registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * console.log(patched); // ['Conv2DBackpropFilter', ..., 'Relu', 'RxfitReluGrad']
 * ```
 *
 * @param options - See {@link WasmTrainingKernelsOptions}.
 * @returns The names of the kernels registered, in registration order.
 * @throws Error when `@tensorflow/tfjs-backend-wasm` was not imported (no stock kernel to wrap).
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelsOptions = {}): string[] {
  const native = options.native ?? true;
  nativeRegistered = native;
  const configs: KernelConfig[] = [
    native ? conv2dBackpropFilterKernel : conv2dBackpropFilterComposedKernel,
    depthwiseConv2dNativeBackpropFilterKernel,
    depthwiseConv2dNativeBackpropInputKernel,
    unsortedSegmentSumKernel,
    native ? maxPoolGradKernel : maxPoolGradComposedKernel,
    conv2dBackpropInputKernel(native),
    batchMatMulKernel(native),
    sumKernel(native),
    fusedMatMulKernel(),
    // The 0.1 kernel set kept the stock ones (copying Identity and Cast); `native: false` does too.
    ...[
      identityKernel(),
      castKernel(),
      conv2dKernel(),
      stepKernel(),
      threadedBinaryKernel('Multiply'),
      threadedBinaryKernel('Add'),
      threadedReluKernel(),
    ].map((config) => (native ? config : stockKernel(config.kernelName))),
  ];
  if (native) configs.push(reluGradKernel);
  else if (tf.getKernel(reluGradKernel.kernelName, WASM) != null)
    tf.unregisterKernel(reluGradKernel.kernelName, WASM);
  for (const config of configs) reRegister(config);
  registerReluGradient(native);
  return configs.map((c) => c.kernelName);
}
