import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { kernelBackend, wrapStockKernel } from './kernel-plumbing.js';
import { MIN_ELEMENT_SHARE, nativeContext, type NativeContext } from './native-kernels.js';

/** Below this many elements a call stays on the stock kernel: waking threads costs more. */
const MIN_THREADED_SIZE = 1 << 17;

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
    const [big, small] = size(a.shape) >= size(b.shape) ? [a, b] : [b, a];
    const period = periodOf(big.shape, small.shape);
    const total = size(big.shape);
    if (period == null || total < MIN_THREADED_SIZE) return stock(args);
    const out = native.output(big.shape);
    const at = [native.offset(big), native.offset(small), native.offset(out)];
    native.runSplit('binary', total, MIN_ELEMENT_SHARE, at, [period, op]);
    return out;
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
    const out = native.output(x.shape);
    const at = [native.offset(x), native.offset(out)];
    native.runSplit('relu', total, MIN_ELEMENT_SHARE, at);
    return out;
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
 * How `small` repeats along `big` in memory: `big`'s size when the shapes are equal, the
 * channel count for a bias over the last axis (`[C]` or `[1, ..., 1, C]`), else `null`.
 */
function periodOf(big: readonly number[], small: readonly number[]): number | null {
  if (big.length === small.length && big.every((d, i) => d === small[i])) return size(big);
  const c = big.at(-1);
  const biasLike = small.at(-1) === c && small.slice(0, -1).every((d) => d === 1);
  return c != null && c > 0 && biasLike && small.length <= big.length ? c : null;
}
