import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { WASM } from './kernel-plumbing.js';
import { PLAIN_WASM, SHARED_WASM } from './wasm-binaries.js';

/**
 * A convolution kernel's arguments: two inputs and the output (byte offsets), the share
 * `[n0, n1)` this call computes, the shapes (`h w ci` in, `ho wo co` out, `kh kw` taps), strides
 * and the top/left padding. conv2d_filter_grad takes (x, dy, dw) and a share of the batch's
 * images; conv2d_direct (x, filter, out) and a share of the batch's `b·ho` output rows.
 */
type ConvKernel = (
  a: number,
  b: number,
  out: number,
  n0: number,
  n1: number,
  h: number,
  w: number,
  ci: number,
  ho: number,
  wo: number,
  co: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  top: number,
  left: number,
) => void;

/**
 * The hand-written wasm kernels (native/*.c, built by native/build.sh), instantiated on the
 * wasm backend's own memory so they read and write tensors in place. Arguments are byte
 * offsets into that memory and sizes.
 */
interface NativeKernels {
  /** See native/conv2d-filter-grad.c. */
  readonly conv2d_filter_grad: ConvKernel;
  /** See native/conv2d-direct.c. */
  readonly conv2d_direct: ConvKernel;
  /** See native/elementwise.c. */
  readonly sum_rows: (x: number, out: number, r0: number, r1: number, c: number) => void;
  /** See native/elementwise.c; `alphaBits` is the float32 alpha's bit pattern as an int32. */
  readonly step: (x: number, out: number, i0: number, i1: number, alphaBits: number) => void;
  /** See native/elementwise.c; `op` 0 multiplies, 1 adds; `b` repeats every `bn` elements. */
  readonly binary: (
    a: number,
    b: number,
    out: number,
    i0: number,
    i1: number,
    bn: number,
    op: number,
  ) => void;
  /** See native/elementwise.c. */
  readonly relu: (x: number, out: number, i0: number, i1: number) => void;
  /** See native/elementwise.c. */
  readonly relu_grad: (dy: number, x: number, out: number, i0: number, i1: number) => void;
  /** See native/gemm.c. */
  readonly gemm: (
    a: number,
    b: number,
    c: number,
    m0: number,
    m1: number,
    n: number,
    k: number,
    ars: number,
    acs: number,
  ) => void;
  /**
   * See native/adam.c: `g m v w` in, `m v w` out (an output may be its input), elements
   * `[i0, i1)`, then the float32 scalars as bits (see {@link floatBits}).
   */
  readonly adam: (...args: number[]) => void;
  /** See native/max-pool-grad.c. */
  readonly max_pool_grad_tiled: (
    x: number,
    y: number,
    dy: number,
    dx: number,
    n0: number,
    n1: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    kh: number,
    kw: number,
  ) => void;
}

/** The few WebAssembly JS API types used here (this project's `lib` has no DOM typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
type WasmModule = object;
interface WasmApi {
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (
    module: WasmModule,
    imports: object,
  ) => { readonly exports: Record<string, unknown> };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The parts of the wasm backend (not in tfjs-core's typings) the native kernels need. */
interface WasmBackendInternals {
  readonly wasm: {
    readonly wasmMemory?: WasmMemory;
    readonly asm?: { readonly memory?: WasmMemory };
    readonly tfjs?: { readonly getThreadsCount?: () => number };
  };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A wasm backend with its memory and the native kernels instantiated on it. */
export interface NativeContext {
  readonly memory: WasmMemory;
  /** Byte offset of a tensor's data in `memory`. */
  offset(info: TensorInfo): number;
  /** A float32 output tensor of the backend, its contents undefined. */
  output(shape: number[]): TensorInfo;
  /** A zero-filled float32 output tensor of the backend. */
  zeros(shape: number[]): TensorInfo;
  /**
   * `[start, end)` ranges that split `count` items (images of a batch, rows, elements) into
   * one share per thread, at most {@link NativeContext.threads}, never an empty one, and none
   * smaller than `minShare` unless there is only one (waking a thread costs tens of µs). With
   * `perThread` > 1 and more than one thread, up to that many shares per thread: kernels whose
   * calls write disjoint outputs take these, and {@link NativeContext.run} hands them out to
   * whichever thread is free, so that a core busy with other work slows the call less.
   */
  split(count: number, minShare?: number, perThread?: number): [number, number][];
  /**
   * How many calls {@link NativeContext.run} runs at once: the backend's thread count when its
   * memory is shared (the threaded binary), else 1.
   */
  readonly threads: number;
  /**
   * Runs one call of an exported kernel per argument list and returns when all are done: this
   * thread and up to {@link NativeContext.threads} − 1 worker threads that share the memory
   * each take the next list not yet taken until none is left. At most {@link MAX_CALLS} lists.
   */
  run(name: keyof NativeKernels, calls: readonly (readonly number[])[]): void;
  /**
   * Runs `name` over `count` items (elements, rows, images) split across the threads
   * ({@link NativeContext.split} with {@link SHARES_PER_THREAD}): each call gets
   * `[...head, start, end, ...tail]`. For kernels whose calls write disjoint outputs.
   */
  runSplit(
    name: keyof NativeKernels,
    count: number,
    minShare: number,
    head: readonly number[],
    tail?: readonly number[],
  ): void;
  /**
   * Runs an element-wise kernel into a new float32 output shaped as `inputs[0]`: its elements
   * split across the threads in shares of at least {@link MIN_ELEMENT_SHARE}, each call getting
   * `[...inputOffsets, outputOffset, start, end, ...tail]`. Returns the output.
   */
  runElementwise(name: keyof NativeKernels, inputs: readonly TensorInfo[], tail?: readonly number[]): TensorInfo;
  /**
   * Runs `name` over `count` items split across the threads, each share into its own float32
   * output of `shape` (zero-filled when `zeroed`, for kernels that add into theirs), then adds
   * the shares into the first in share order (deterministic) and returns it. Each call gets
   * `[...head, outputOffset, start, end, ...tail]`. For reductions over the split items.
   */
  runSplitSummed(
    name: keyof NativeKernels,
    count: number,
    minShare: number,
    shape: number[],
    zeroed: boolean,
    head: readonly number[],
    tail?: readonly number[],
  ): TensorInfo;
}

/**
 * The least share of an element-wise kernel's elements that a thread gets: waking a thread
 * costs tens of µs, more than a smaller share saves.
 */
export const MIN_ELEMENT_SHARE = 1 << 16;

const bitsAsFloat = new Float32Array(1);
const bitsAsInt = new Int32Array(bitsAsFloat.buffer);

/** The bits of `value` rounded to float32, as an int32: how kernels receive float arguments. */
export function floatBits(value: number): number {
  bitsAsFloat[0] = value;
  return bitsAsInt[0]!;
}

/** Longest argument list of an exported kernel. */
const MAX_ARGS = 32;
/** Most argument lists of one {@link NativeContext.run}: 4 per thread for 8 threads. */
const MAX_CALLS = 32;
/**
 * Shares per thread for kernels whose calls write disjoint outputs: a thread that finishes
 * early (its core was free) takes another share.
 */
const SHARES_PER_THREAD = 4;

const contexts = new WeakMap<object, NativeContext | null>();

/**
 * The native kernels for this wasm backend, or `null` when its memory cannot be reached (a
 * wasm package whose emscripten module exposes neither `wasmMemory` nor `asm.memory`); the
 * callers then fall back to their compositions of stock kernels.
 */
export function nativeContext(backend: KernelBackend): NativeContext | null {
  const cached = contexts.get(backend);
  if (cached !== undefined) return cached;
  const context = instantiate(backend as unknown as WasmBackendInternals);
  contexts.set(backend, context);
  return context;
}

/**
 * The native kernels of the active backend when it is wasm and they can be reached, else
 * `null`: for code outside a kernel (an optimizer, a gradient), which has no backend argument.
 */
export function activeNativeContext(): NativeContext | null {
  return tf.getBackend() === WASM ? nativeContext(tf.backend()) : null;
}

function instantiate(backend: WasmBackendInternals): NativeContext | null {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssemblyApi.Memory)) return null;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const module = new WebAssemblyApi.Module(
    Uint8Array.from(atob(shared ? SHARED_WASM : PLAIN_WASM), (ch) => ch.charCodeAt(0)),
  );
  const kernels = new WebAssemblyApi.Instance(module, { env: { memory } })
    .exports as unknown as NativeKernels;
  const threads = shared ? Math.max(1, backend.wasm.tfjs?.getThreadsCount?.() ?? 1) : 1;
  let pool: WorkerPool | null = null;
  const offset = (info: TensorInfo): number => {
    const data = backend.dataIdMap.get(info.dataId);
    if (data == null) throw new Error('A tensor given to a native wasm kernel is not on wasm');
    return data.memoryOffset;
  };
  const output = (shape: number[]): TensorInfo => backend.makeOutput(shape, 'float32');
  const zeros = (shape: number[]): TensorInfo => {
    const out = output(shape);
    // Read the buffer after makeOutput: its malloc may have grown the memory.
    const start = offset(out) >> 2;
    new Float32Array(memory.buffer).fill(0, start, start + tf.util.sizeFromShape(shape));
    return out;
  };
  const split = (count: number, minShare = 1, perThread = 1): [number, number][] => {
    const most = threads > 1 ? Math.min(MAX_CALLS, threads * perThread) : 1;
    const parts = Math.max(1, Math.min(most, Math.floor(count / Math.max(1, minShare))));
    return Array.from({ length: parts }, (_, i) => [
      Math.floor((count * i) / parts),
      Math.floor((count * (i + 1)) / parts),
    ]);
  };
  const run = (name: keyof NativeKernels, calls: readonly (readonly number[])[]): void => {
    if (calls.length > MAX_CALLS)
      throw new RangeError(`${calls.length} calls, at most ${MAX_CALLS}`);
    const kernel: (...args: number[]) => void = kernels[name];
    if (calls.length === 1 || threads === 1) {
      for (const args of calls) kernel(...args);
      return;
    }
    pool ??= new WorkerPool(module, memory, threads - 1, Object.keys(kernels));
    pool.run(kernel, name, calls);
  };
  const runSplit: NativeContext['runSplit'] = (name, count, minShare, head, tail = []) => {
    run(
      name,
      split(count, minShare, SHARES_PER_THREAD).map(([start, end]) => [...head, start, end, ...tail]),
    );
  };
  return {
    memory,
    offset,
    output,
    zeros,
    split,
    threads,
    run,
    runSplit,
    runElementwise(name, inputs, tail = []) {
      const shape = inputs[0]!.shape;
      const out = output(shape);
      runSplit(
        name,
        tf.util.sizeFromShape(shape),
        MIN_ELEMENT_SHARE,
        [...inputs.map(offset), offset(out)],
        tail,
      );
      return out;
    },
    runSplitSummed(name, count, minShare, shape, zeroed, head, tail = []) {
      const shares = split(count, minShare, SHARES_PER_THREAD);
      const outs = shares.map(() => (zeroed ? zeros(shape) : output(shape)));
      run(
        name,
        shares.map(([start, end], i) => [...head, offset(outs[i]!), start, end, ...tail]),
      );
      const [out, ...partials] = outs as [TensorInfo, ...TensorInfo[]];
      if (partials.length > 0) {
        const size = tf.util.sizeFromShape(shape);
        const heap = new Float32Array(memory.buffer);
        const at = offset(out) >> 2;
        for (const partial of partials) {
          const from = offset(partial) >> 2;
          for (let k = 0; k < size; k++) heap[at + k]! += heap[from + k]!;
          backend.disposeData(partial.dataId, true);
        }
      }
      return out;
    },
  };
}

/**
 * Worker threads that each instantiate the kernels on the same shared memory and wait, on an
 * `Atomics` word of their own, for a job: `[0]` counts the jobs posted to it, `[1]` the jobs
 * it finished (−1 once it failed). A job lives in one shared table: `[0]` the next call to
 * take, `[1]` the number of calls, `[2]` the kernel (its index in the module's exports), `[3]`
 * the argument count, then {@link MAX_ARGS} slots per call. Every thread of a job takes calls
 * with `Atomics.add` on `[0]` until none is left. The workers are `unref`'d: they never keep
 * the process alive.
 */
class WorkerPool {
  private readonly controls: Int32Array[] = [];
  private readonly job = new Int32Array(new SharedArrayBuffer(4 * (4 + MAX_CALLS * MAX_ARGS)));
  private posted = 0;
  /** A kernel's index in the module's exports, the names the workers look kernels up by. */
  private readonly kernelIndex: ReadonlyMap<string, number>;

  constructor(module: WasmModule, memory: WasmMemory, count: number, names: readonly string[]) {
    this.kernelIndex = new Map(names.map((name, i) => [name, i]));
    for (let i = 0; i < count; i++) {
      const control = new Int32Array(new SharedArrayBuffer(8));
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // Not the parent's flags: a loader such as `--import tsx` would make the worker's
        // start-up wait for the parent thread, which is blocked waiting for the worker.
        execArgv: [],
        workerData: { module, memory, control, job: this.job, names, MAX_ARGS },
      });
      worker.unref();
      // A worker's failure reaches the caller through run(); without a listener its 'error'
      // event would also end the process.
      worker.on('error', () => undefined);
      this.controls.push(control);
    }
  }

  /**
   * Posts the calls, wakes one worker per call beyond the first (at most all of them), takes
   * calls on this thread too, and waits until the woken workers are done.
   *
   * @throws Error when a worker failed (its error also reaches the process as an uncaught
   *   worker error once this thread is free).
   */
  run(
    kernel: (...args: number[]) => void,
    name: keyof NativeKernels,
    calls: readonly (readonly number[])[],
  ): void {
    const job = this.job;
    job[1] = calls.length;
    const index = this.kernelIndex.get(name);
    if (index === undefined) throw new Error(`The native wasm module exports no ${name}`);
    job[2] = index;
    job[3] = calls[0]?.length ?? 0;
    calls.forEach((args, i) => job.set(args, 4 + i * MAX_ARGS));
    Atomics.store(job, 0, 0);
    this.posted++;
    const woken = Math.min(this.controls.length, calls.length - 1);
    for (let w = 0; w < woken; w++) {
      Atomics.store(this.controls[w]!, 0, this.posted);
      Atomics.notify(this.controls[w]!, 0);
    }
    for (let i; (i = Atomics.add(job, 0, 1)) < calls.length;) kernel(...calls[i]!);
    for (let w = 0; w < woken; w++) {
      const control = this.controls[w]!;
      for (;;) {
        const done = Atomics.load(control, 1);
        if (done === this.posted) break;
        if (done === -1) throw new Error('A native wasm kernel failed on a worker thread');
        Atomics.wait(control, 1, done);
      }
    }
  }
}

// Plain JavaScript, run with `eval`. A failure is reported as done = -1, never as a hang.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, job, names, MAX_ARGS } = workerData;
let exports = null;
try {
  exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (err) {
  Atomics.store(control, 1, -1);
  Atomics.notify(control, 1);
  throw err;
}
for (let seen = 0; ; ) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  try {
    const kernel = exports[names[job[2]]];
    const total = job[1];
    const argc = job[3];
    for (let i; (i = Atomics.add(job, 0, 1)) < total; ) {
      kernel(...job.subarray(4 + i * MAX_ARGS, 4 + i * MAX_ARGS + argc));
    }
  } catch (err) {
    Atomics.store(control, 1, -1);
    Atomics.notify(control, 1);
    throw err;
  }
  Atomics.store(control, 1, seen);
  Atomics.notify(control, 1);
}
`;
