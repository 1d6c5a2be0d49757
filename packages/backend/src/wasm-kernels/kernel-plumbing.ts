import * as tf from '@tensorflow/tfjs';
import type {
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs';

/** The backend every kernel of this folder is registered for. */
export const WASM = 'wasm';

/**
 * A kernel body written with ordinary tf ops. It runs inside `tf.tidy`, so every
 * intermediate tensor is freed when it returns; only the returned tensor survives. Its
 * inputs are wrapped as tensors that live until it returns.
 */
export type ComposedBody<K extends string> = (
  inputs: Readonly<Record<K, tf.Tensor>>,
  attrs: NamedAttrMap,
  backend: KernelBackend,
) => tf.Tensor;

/**
 * Wraps a tensor-level body as a wasm kernel.
 *
 * Why the ceremony: kernels receive `TensorInfo`s (or tensors when called from an op) and
 * must return a `TensorInfo` whose data the engine then owns. Ops run inside a kernel are
 * not recorded on the gradient tape (kernelDepth > 0), so composing is safe.
 *
 * @param kernelName - The tfjs kernel name, e.g. `'Conv2DBackpropFilter'`.
 * @param inputNames - The kernel's input names, as tfjs-core passes them.
 * @param body - The composition, run inside `tf.tidy` on the wasm backend.
 * @returns A kernel config for `tf.registerKernel`.
 */
export function composedKernel<K extends string>(
  kernelName: string,
  inputNames: readonly K[],
  body: ComposedBody<K>,
): KernelConfig {
  return {
    kernelName,
    backendName: WASM,
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = kernelBackend(anyBackend);
      const out = tf.tidy(() => {
        const wrapped = {} as Record<K, tf.Tensor>;
        for (const name of inputNames) {
          const info = inputs[name];
          if (info == null) throw new Error(`${kernelName}: missing input '${name}'`);
          wrapped[name] = asTensor(info, backend);
        }
        const result = body(wrapped, attrs ?? {}, backend);
        // Handing over an input tensor itself would dispose the caller's tensor below.
        return Object.values<tf.Tensor>(wrapped).includes(result) ? tf.clone(result) : result;
      });
      return handOver(out, backend);
    },
  };
}

/**
 * Wraps a `TensorInfo` as a tensor for the current tidy scope. The extra reference keeps
 * the caller's data alive when the scope disposes the wrapper.
 */
export function asTensor(info: TensorInfo, backend: KernelBackend): tf.Tensor {
  if (info instanceof tf.Tensor) return info as tf.Tensor;
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/**
 * Hands the data of `out` to the engine as a bare `TensorInfo` and drops our wrapper,
 * so the reference count ends at exactly one (the engine's).
 */
export function handOver(out: tf.Tensor, backend: KernelBackend): TensorInfo {
  backend.incRef(out.dataId);
  const info: TensorInfo = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
  out.dispose();
  return info;
}

/**
 * The output of a kernel that returns its input unchanged (`Identity`, a `Cast` to the same
 * dtype): the input's buffer with one more reference, no copy. Safe because no wasm kernel writes
 * into its inputs.
 */
export function shareData(x: TensorInfo, backend: unknown): TensorInfo {
  kernelBackend(backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * The backend a kernel receives, typed: tfjs declares it as `{}` in `KernelFunc`.
 *
 * @throws TypeError when it is not a tfjs backend.
 */
export function kernelBackend(backend: unknown): KernelBackend {
  if (!(backend instanceof tf.KernelBackend))
    throw new TypeError('A kernel was called without a tfjs backend');
  return backend;
}

/** Replaces any registration of `config.kernelName` on wasm without the overwrite warning. */
export function reRegister(config: KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) != null) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

/** Reads a `[height, width]` pair that tfjs may pass as one number. */
export function pair(value: unknown, name: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number];
  }
  throw new TypeError(`${name} must be a number or [number, number], got ${JSON.stringify(value)}`);
}

/** Shape of a 4-D tensor as a tuple. */
export function shape4(t: tf.Tensor, name: string): [number, number, number, number] {
  if (t.rank !== 4)
    throw new RangeError(`${name} must be rank 4, got shape [${t.shape.join(', ')}]`);
  return t.shape as [number, number, number, number];
}

/** Marks our wrappers so a second registration never wraps a wrapper (infinite recursion). */
const WRAPPER = Symbol.for('@rxfit/backend:wrapper');
const stockKernels = new Map<string, Pick<KernelConfig, 'kernelFunc' | 'setupFunc'>>();

/**
 * Builds a wasm kernel that handles some calls itself and hands the rest to the stock
 * kernel. The stock kernel is looked up once (`tf.getKernel`) and kept, so that wrapping
 * again after a re-registration still wraps the stock kernel and never our own wrapper.
 *
 * @param kernelName - A kernel the wasm backend ships.
 * @param make - Receives the stock kernel function and returns the replacement.
 * @returns The kernel config, carrying the stock `setupFunc` (it binds the C++ function
 *   when the backend initialises, which the stock kernel function needs).
 * @throws Error when the wasm backend module registered no such kernel.
 */
export function wrapStockKernel(
  kernelName: string,
  make: (stock: KernelFunc) => KernelFunc,
): KernelConfig {
  const current = tf.getKernel(kernelName, WASM);
  if (current == null) {
    throw new Error(
      `The wasm backend has no ${kernelName} kernel to wrap: import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  if (!(WRAPPER in current.kernelFunc)) {
    stockKernels.set(kernelName, { kernelFunc: current.kernelFunc, setupFunc: current.setupFunc });
  }
  const stock = stockKernels.get(kernelName);
  if (stock == null) throw new Error(`The stock wasm ${kernelName} kernel was lost`);
  const kernelFunc = make(stock.kernelFunc);
  Object.defineProperty(kernelFunc, WRAPPER, { value: true });
  const config: KernelConfig = { kernelName, backendName: WASM, kernelFunc };
  if (stock.setupFunc) config.setupFunc = stock.setupFunc;
  return config;
}

/**
 * The stock wasm kernel of `kernelName` as a config: the one {@link wrapStockKernel} kept,
 * or the current registration when it was never wrapped.
 *
 * @throws Error when the wasm backend module registered no such kernel.
 */
export function stockKernel(kernelName: string): KernelConfig {
  const current = tf.getKernel(kernelName, WASM);
  const stock = stockKernels.get(kernelName) ?? current;
  if (stock == null) throw new Error(`The wasm backend has no ${kernelName} kernel`);
  const config: KernelConfig = { kernelName, backendName: WASM, kernelFunc: stock.kernelFunc };
  if (stock.setupFunc) config.setupFunc = stock.setupFunc;
  return config;
}
