import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { MIN_ELEMENT_SHARE, nativeContext, type NativeContext } from './native-kernels.js';

/**
 * Below this many elements a call stays on the stock kernel: it would get one share of
 * {@link MIN_ELEMENT_SHARE} or more, so no second thread.
 */
const MIN_THREADED_SIZE = 2 * MIN_ELEMENT_SHARE;

/**
 * `Multiply` and `Add` for wasm that split large float32 calls across the threads of the
 * threaded binary, as the native pass of native/elementwise.c: the stock kernels (XNNPACK)
 * run on one thread whatever `threads` says, and the seed CNN's relu gradient (`dy · step(x)`)
 * and bias add run over 16 MB activations. Only same-shape operands or a bias over the last
 * axis (either side); every other call, and every call on one thread, goes to the stock kernel.
 *
 * @param kernelName - `'Multiply'` or `'Add'`.
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no such kernel.
 */
export function threadedBinaryKernel(kernelName: 'Multiply' | 'Add'): KernelConfig {
  const op = kernelName === 'Multiply' ? 0 : 1;
  return wrapStockKernel(kernelName, (stock) => (args) => {
    const a = args.inputs['a'] as TensorInfo;
    const b = args.inputs['b'] as TensorInfo;
    const native = threaded(args);
    if (native == null || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    // Both ops commute: the full-size operand goes first.
    const [sizeA, sizeB] = [size(a.shape), size(b.shape)];
    const [big, small] = sizeA >= sizeB ? [a, b] : [b, a];
    const total = Math.max(sizeA, sizeB);
    const period = periodOf(big.shape, small.shape, total);
    if (period == null || total < MIN_THREADED_SIZE) return stock(args);
    return native.runElementwise('binary', [big, small], [period, op]);
  });
}

/**
 * `Relu` for wasm that splits large float32 calls across the threads of the threaded binary
 * (native/elementwise.c; NaN stays NaN, as on cpu). Other calls go to the stock kernel.
 *
 * @returns The kernel config, wrapping the stock wasm kernel.
 * @throws Error when the wasm backend module registered no `Relu` kernel.
 */
export function threadedReluKernel(): KernelConfig {
  return wrapStockKernel('Relu', (stock) => (args) => {
    const x = args.inputs['x'] as TensorInfo;
    const native = threaded(args);
    const total = size(x.shape);
    if (native == null || x.dtype !== 'float32' || total < MIN_THREADED_SIZE) return stock(args);
    return native.runElementwise('relu', [x]);
  });
}

/** The native kernels when there is more than one thread to split across, else `null`. */
function threaded(args: Parameters<KernelFunc>[0]): NativeContext | null {
  const native = nativeContext(kernelBackend(args.backend));
  return native != null && native.threads > 1 ? native : null;
}

function size(shape: readonly number[]): number {
  return tf.util.sizeFromShape(shape as number[]);
}

/**
 * How `small` repeats along `big` (of `bigSize` elements) in memory: `bigSize` when the shapes
 * are equal, the channel count for a bias over the last axis (`[C]` or `[1, ..., 1, C]`), else
 * `null`.
 */
function periodOf(big: number[], small: number[], bigSize: number): number | null {
  if (tf.util.arraysEqual(big, small)) return bigSize;
  const c = big.at(-1);
  const biasLike = small.at(-1) === c && small.slice(0, -1).every((d) => d === 1);
  return c != null && c > 0 && biasLike && small.length <= big.length ? c : null;
}
