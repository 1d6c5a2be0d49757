import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '@rxfit/core/operator-kit';
import { firstLine, messageOf } from './error-text.js';
import { registerWasmTrainingKernels } from './wasm-kernels/register-wasm-training-kernels.js';
import { activateWebGpu, probeWebGpuAdapter, type GpuAdapter } from './webgpu.js';

/**
 * The engines `useBestBackend` knows, in the order it tries them. `tensorflow-gpu` and
 * `tensorflow` are the native packages `@tensorflow/tfjs-node-gpu` and `@tensorflow/tfjs-node`
 * (both register the tfjs backend named `'tensorflow'`); `webgpu` is tfjs' WebGPU backend on
 * Dawn (the optional `webgpu` package), chosen by itself only on a hardware adapter.
 *
 * ## Example
 * ```ts
 * import { useBestBackend, type BackendName } from '@rxfit/backend';
 *
 * const wanted: BackendName = 'wasm';
 * await useBestBackend({ prefer: wanted });
 * ```
 */
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Every {@link BackendName}, in the order `useBestBackend` tries them.
 *
 * ## Example
 * ```ts
 * import { BACKEND_NAMES } from '@rxfit/backend';
 *
 * console.log(BACKEND_NAMES.join(' > ')); // tensorflow-gpu > webgpu > tensorflow > wasm > cpu
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze([
  'tensorflow-gpu',
  'webgpu',
  'tensorflow',
  'wasm',
  'cpu',
]);

/**
 * The environment variable that forces one backend; its values are the {@link BackendName}s.
 *
 * ## Example
 * ```ts
 * import { BACKEND_ENV_VAR, useBestBackend } from '@rxfit/backend';
 *
 * // Same as starting the program with RXFIT_BACKEND=cpu in the environment.
 * const info = await useBestBackend({ env: { [BACKEND_ENV_VAR]: 'cpu' } });
 * console.log(info.name); // 'cpu'
 * ```
 */
export const BACKEND_ENV_VAR = 'RXFIT_BACKEND';

/**
 * The environment variable that sets the number of wasm threads (an integer ≥ 1; `1` keeps the
 * single-threaded binary; unset, one per core). It wins over `options.threads`, as
 * `RXFIT_BACKEND` wins over `options.prefer`.
 *
 * ## Example
 * ```ts
 * import { WASM_THREADS_ENV_VAR, useBestBackend } from '@rxfit/backend';
 *
 * // Same as starting the program with RXFIT_WASM_THREADS=2 in the environment.
 * const info = await useBestBackend({ env: { [WASM_THREADS_ENV_VAR]: '2' } });
 * console.log(info.threads); // 2 when wasm was chosen and initialised by this call
 * ```
 */
export const WASM_THREADS_ENV_VAR = 'RXFIT_WASM_THREADS';

/**
 * Options of {@link useBestBackend}.
 *
 * ## Example
 * ```ts
 * import { useBestBackend, type UseBestBackendOptions } from '@rxfit/backend';
 *
 * const options: UseBestBackendOptions = { prefer: 'wasm', logger: (msg) => console.warn(msg) };
 * await useBestBackend(options);
 * ```
 */
export interface UseBestBackendOptions {
  /**
   * A backend to try first; when it cannot be loaded the usual order follows. A soft wish:
   * `RXFIT_BACKEND` (a hard requirement) wins over it.
   * @default undefined (the order of {@link BACKEND_NAMES})
   */
  readonly prefer?: BackendName;
  /**
   * Receives one line per backend that was skipped, with the reason, and one for the choice.
   * @default a no-op: falling back to wasm is the normal case when the native packages are
   * not installed, and the reasons are in the returned `skipped` anyway.
   */
  readonly logger?: (msg: string) => void;
  /**
   * Where `RXFIT_BACKEND` and `RXFIT_WASM_THREADS` are read.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Loads a native package by name. A port for tests and bundlers.
   * @default (specifier) => import(specifier)
   */
  readonly importModule?: (specifier: string) => Promise<unknown>;
  /**
   * Threads for the wasm backend (an integer ≥ 1). Above 1, the package's threaded SIMD binary
   * is loaded with `threads - 1` emscripten pthread workers; this takes effect only if this
   * call is the one that initialises wasm. Ignored by the other backends. `RXFIT_WASM_THREADS`
   * wins over it; `1` forces the single-threaded SIMD binary.
   * @default one per core (`os.availableParallelism()`), at most 8
   */
  readonly threads?: number;
}

/**
 * A backend that was tried and not chosen.
 *
 * ## Example
 * ```ts
 * import { useBestBackend } from '@rxfit/backend';
 *
 * const { skipped } = await useBestBackend();
 * for (const s of skipped) console.log(`${s.name}: ${s.reason}`);
 * ```
 */
export interface SkippedBackend {
  /** The backend. */
  readonly name: BackendName;
  /** Why it could not be used (the import or initialisation error message). */
  readonly reason: string;
}

/**
 * What {@link useBestBackend} chose, and why.
 *
 * ## Example
 * ```ts
 * import { useBestBackend, type BackendInfo } from '@rxfit/backend';
 *
 * const info: BackendInfo = await useBestBackend();
 * console.log(info.name, info.reason, info.kernelsPatched.length);
 * ```
 */
export interface BackendInfo {
  /** The backend in use. */
  readonly name: BackendName;
  /** The tfjs backend name now active (`tf.getBackend()`): `'tensorflow'`, `'webgpu'`, `'wasm'` or `'cpu'`. */
  readonly tfBackend: string;
  /** The kernels registered to complete the backend for training (only for `wasm`, else empty). */
  readonly kernelsPatched: readonly string[];
  /** Why this one: forced by `RXFIT_BACKEND`, preferred by the options, or the first that loaded. */
  readonly reason: string;
  /** The backends tried before it, with the reasons they failed. */
  readonly skipped: readonly SkippedBackend[];
  /** For `wasm`: whether the SIMD binary is in use (about 2x faster than the plain one). */
  readonly simd?: boolean;
  /** For `wasm`: the threads XNNPACK uses (`getThreadsCount()` of the wasm package). */
  readonly threads?: number;
  /** For `webgpu`: the GPU adapter Dawn chose (vendor, architecture, software or not). */
  readonly adapter?: GpuAdapter;
}

const NATIVE_PACKAGE: Readonly<Record<'tensorflow-gpu' | 'tensorflow', string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Selects the fastest TensorFlow.js backend present and makes it the active one: native
 * TensorFlow with CUDA (`@tensorflow/tfjs-node-gpu`), WebGPU on Dawn (the `webgpu` package) when
 * Dawn's adapter is a hardware GPU (never a software one such as SwiftShader or lavapipe),
 * native TensorFlow (`@tensorflow/tfjs-node`), WebAssembly completed with the kernels training
 * needs, then the pure-JS `cpu` backend. The native packages and Dawn are optional dependencies
 * that are loaded only if installed. `RXFIT_BACKEND=webgpu` forces WebGPU on any adapter.
 * Calling it again is cheap and gives the same answer.
 *
 * ## Example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { useBestBackend } from '@rxfit/backend';
 *
 * const info = await useBestBackend({ logger: console.warn });
 * console.log(info.name, tf.getBackend()); // 'wasm' 'wasm' when no native package is installed
 * ```
 *
 * @param options - See {@link UseBestBackendOptions}.
 * @returns The backend chosen, the kernels added to it, and the backends skipped.
 * @throws RangeError when `RXFIT_BACKEND` or `prefer` is not a {@link BackendName}, or when
 * `RXFIT_WASM_THREADS` or `threads` is not an integer ≥ 1.
 * @throws Error when `RXFIT_BACKEND` names a backend that cannot be loaded.
 */
export async function useBestBackend(options: UseBestBackendOptions = {}): Promise<BackendInfo> {
  checkOptions('useBestBackend', options, ['prefer', 'logger', 'env', 'importModule', 'threads']);
  const logger = options.logger ?? noop;
  const env = options.env ?? process.env;
  const importModule = options.importModule ?? defaultImport;
  const forcedRaw = env[BACKEND_ENV_VAR]?.trim();
  if (options.prefer !== undefined && !isBackendName(options.prefer)) {
    throw new RangeError(
      `useBestBackend: options.prefer is ${JSON.stringify(options.prefer)}; use one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  const threads = resolveThreads(options.threads, env[WASM_THREADS_ENV_VAR]);
  const activate = (name: BackendName, forced = false) =>
    activateBackend(name, importModule, threads, logger, forced);
  if (forcedRaw) {
    if (!isBackendName(forcedRaw)) {
      throw new RangeError(
        `${BACKEND_ENV_VAR}=${JSON.stringify(forcedRaw)} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`,
      );
    }
    try {
      const info = await activate(forcedRaw, true);
      logger(`@rxfit/backend: using ${describe(info)} (forced by ${BACKEND_ENV_VAR})`);
      return { ...info, reason: `forced by ${BACKEND_ENV_VAR}=${forcedRaw}`, skipped: [] };
    } catch (err) {
      throw new Error(
        `${BACKEND_ENV_VAR}=${forcedRaw} was requested but cannot be used: ${messageOf(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const order = options.prefer
    ? [options.prefer, ...BACKEND_NAMES.filter((n) => n !== options.prefer)]
    : [...BACKEND_NAMES];
  const skipped: SkippedBackend[] = [];
  for (const name of order) {
    try {
      const info = await activate(name);
      const reason =
        name === options.prefer
          ? 'preferred by options.prefer'
          : skipped.length === 0
            ? 'first in order'
            : 'first that loaded';
      logger(`@rxfit/backend: using ${describe(info)} (${reason})`);
      return { ...info, reason, skipped };
    } catch (err) {
      const reason = messageOf(err);
      skipped.push({ name, reason });
      logger(`@rxfit/backend: skipped ${name}: ${reason}`);
    }
  }
  throw new Error(
    `useBestBackend: no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

async function activateBackend(
  name: BackendName,
  importModule: (specifier: string) => Promise<unknown>,
  threads: number,
  logger: (msg: string) => void,
  forced: boolean,
): Promise<Omit<BackendInfo, 'reason' | 'skipped'>> {
  switch (name) {
    case 'webgpu': {
      if (!forced) {
        // Probed before anything is registered: a software adapter is refused untouched.
        const { info } = await probeWebGpuAdapter(importModule);
        if (info.software) {
          throw new Error(
            `Dawn's adapter is a software one (${info.label}), slower than wasm: ${BACKEND_ENV_VAR}=webgpu forces it`,
          );
        }
      }
      const adapter = await activateWebGpu(importModule);
      return { name, tfBackend: tf.getBackend(), kernelsPatched: [], adapter };
    }
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = NATIVE_PACKAGE[name];
      try {
        await importModule(pkg);
      } catch (err) {
        throw new Error(
          `${pkg} is not installed or failed to load (${firstLine(messageOf(err))})`,
          { cause: err },
        );
      }
      // The package registers 'tensorflow' on the tfjs-core it resolves; if that is another
      // copy than ours, our engine never sees it.
      await setBackendOrThrow(
        'tensorflow',
        `${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs`,
      );
      return { name, tfBackend: tf.getBackend(), kernelsPatched: [] };
    }
    case 'wasm': {
      // Imported here, not at the top: the package registers itself as the highest-priority
      // backend, which would break any op run before the switch in programs that pick another.
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      pointWasmAtNodeModules(wasm.setWasmPaths);
      const kernelsPatched = registerWasmTrainingKernels();
      const initialisedWith = wasmThreadsIfInitialised(wasm.getThreadsCount);
      if (threads > 1 && initialisedWith === undefined) {
        await initWasmThreaded(wasm.setThreadsCount, threads);
        const got = wasm.getThreadsCount();
        if (got !== threads) {
          logger(`@rxfit/backend: wasm asked for ${threads} threads and got ${got}`);
        }
      } else {
        if (initialisedWith !== undefined && initialisedWith !== threads) {
          logger(
            `@rxfit/backend: wasm was already initialised with ${initialisedWith} thread(s); threads: ${threads} is ignored`,
          );
        }
        await setBackendOrThrow('wasm', 'the wasm backend failed to initialise');
      }
      return {
        name,
        tfBackend: tf.getBackend(),
        kernelsPatched,
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
        threads: wasm.getThreadsCount(),
      };
    }
    case 'cpu':
      await setBackendOrThrow('cpu', 'the cpu backend failed to initialise');
      skipCpuBanner();
      return { name, tfBackend: tf.getBackend(), kernelsPatched: [] };
  }
}

/**
 * tfjs' cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js. To speed
 * things up dramatically, install our node backend..." at its first tensor write under Node
 * (`MathBackendCPU.write`, once per backend instance, guarded by its `firstUse` field). Here
 * the faster backends were tried first and `skipped` says why each was not used, so the advice
 * is noise. Only the instance chosen here is marked; a program that sets `cpu` with tfjs alone
 * still gets tfjs' own behaviour.
 */
function skipCpuBanner(): void {
  const backend = tf.backend() as unknown as { firstUse?: unknown };
  if (typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

let wasmPathsSet = false;

/**
 * Tells the wasm backend where its `.wasm` binaries are: the `dist/` folder of the installed
 * package, so that nothing is fetched from a network. It only matters before the first
 * initialisation (if the user already initialised wasm, it found its binaries by itself).
 */
function pointWasmAtNodeModules(setWasmPaths: (prefix: string) => void): void {
  // Not tf.findBackend('wasm'): it would start the initialisation it is meant to detect.
  if (wasmPathsSet) return;
  wasmPathsSet = true;
  const require = createRequire(import.meta.url);
  const binary = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  try {
    setWasmPaths(path.dirname(binary) + path.sep);
  } catch {
    // Throws only once an initialisation was aborted; setBackend then reports the failure.
  }
}

function resolveThreads(option: number | undefined, envRaw: string | undefined): number {
  const fromEnv = envRaw?.trim();
  if (fromEnv) {
    const n = Number(fromEnv);
    if (!/^\d+$/.test(fromEnv) || !Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(
        `${WASM_THREADS_ENV_VAR}=${JSON.stringify(envRaw)} is not a thread count; use an integer ≥ 1`,
      );
    }
    return n;
  }
  if (option === undefined) return defaultThreads();
  if (typeof option !== 'number' || !Number.isSafeInteger(option) || option < 1) {
    throw new RangeError(
      `useBestBackend: options.threads is ${String(option)}; use an integer ≥ 1`,
    );
  }
  return option;
}

/**
 * The default number of wasm threads: one per core the process may use, at most the 8 workers the
 * threaded binary starts. Measured on the seed workflow on 2 cores (bench/data-wait.ts, decode
 * workers included): 2 threads 1220-1263 ms per epoch against 1 thread 1294-1355 ms; on in-memory
 * tensors 869-890 ms against 1200-1212 ms. One core gets the single-threaded binary.
 */
function defaultThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

/** The wasm package's thread count if its backend was initialised already, else undefined. */
function wasmThreadsIfInitialised(getThreadsCount: () => number): number | undefined {
  try {
    return getThreadsCount(); // throws until the backend's constructor ran
  } catch {
    return undefined;
  }
}

/** The emscripten objects `initWasmThreaded` reaches into (the backend's `wasm` module). */
interface EmscriptenPThreads {
  readonly PThread?: {
    readonly runningWorkers?: readonly { unref?: () => void }[];
    readonly unusedWorkers?: readonly { unref?: () => void }[];
  };
}

const MULTITHREAD_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';

/**
 * Initialises wasm with the package's threaded SIMD binary, which it never selects on Node
 * (tfjs issue #3830). Three obstacles, each lifted only while `tf.setBackend('wasm')` runs
 * and put back right after:
 *
 * - the `WASM_HAS_MULTITHREAD_SUPPORT` flag is `false` on Node: set to `true`;
 * - the pthread worker script is handed to `new Worker` as a Blob URL, which
 *   `node:worker_threads` cannot load: `URL.createObjectURL` returns a real file instead
 *   for that Blob (the worker script, written to a temporary folder, itself loads the main
 *   script from `wasm-out/` instead of the Blob it is sent);
 * - the C++ side caps the pool at `os.cpus().length / 2`: `os.cpus()` reports at least
 *   `2 * threads` entries.
 *
 * emscripten also sets `globalThis.Worker` (to `worker_threads.Worker`) while it loads; that is
 * put back too. Finally the pthread workers are `unref`'d: XNNPACK's pool threads run for the
 * life of the backend and emscripten keeps a running pthread's worker ref'd, which would keep
 * the process alive after the program ends (and `beforeExit` never fires while they are).
 */
async function initWasmThreaded(
  setThreadsCount: (n: number) => void,
  threads: number,
): Promise<void> {
  const require = createRequire(import.meta.url);
  const mainScript =
    require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const workerScript = writeWorkerScript(require, mainScript);
  const env = tf.env();
  const flagBefore = await env.getAsync(MULTITHREAD_FLAG);
  const workerBefore = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  env.set(MULTITHREAD_FLAG, true);
  setThreadsCount(threads);
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript'
      ? workerScript
      : createObjectURL.call(URL, obj);
  os.cpus = () => {
    const real = cpus.call(os);
    const first = real[0];
    const wanted = 2 * threads;
    return real.length >= wanted || first === undefined
      ? real
      : [...real, ...Array.from({ length: wanted - real.length }, () => first)];
  };
  try {
    await setBackendOrThrow('wasm', 'the wasm backend failed to initialise with threads');
  } finally {
    os.cpus = cpus;
    URL.createObjectURL = createObjectURL;
    env.set(MULTITHREAD_FLAG, flagBefore);
    if (workerBefore) Object.defineProperty(globalThis, 'Worker', workerBefore);
    else Reflect.deleteProperty(globalThis, 'Worker');
  }
  const module = (tf.backend() as unknown as { wasm?: EmscriptenPThreads }).wasm;
  const pthread = module?.PThread;
  if (!pthread?.runningWorkers) {
    throw new Error('the threaded wasm backend exposes no PThread pool to unref');
  }
  for (const worker of [...pthread.runningWorkers, ...(pthread.unusedWorkers ?? [])]) {
    worker.unref?.();
  }
}

/**
 * Writes the package's pthread worker script to a temporary `.cjs` file (deleted at exit) and
 * returns its path. Appended to it: inside the worker, `URL.createObjectURL` returns the path
 * of the threaded main script, which the worker then reads with `importScripts`.
 */
function writeWorkerScript(require: NodeJS.Require, mainScript: string): string {
  const { wasmWorkerContents } =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents: string;
    };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxfit-wasm-'));
  const file = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  // As the package does for its Blob: '\n' inside the script's strings became real newlines.
  const contents =
    wasmWorkerContents.replace(/\n/g, '\\n') +
    `;URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};\n`;
  fs.writeFileSync(file, contents);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}

async function setBackendOrThrow(tfName: string, message: string): Promise<void> {
  // setBackend warns and resolves false on init failure instead of rejecting.
  const ok = await tf.setBackend(tfName).catch((err: unknown) => {
    throw new Error(`${message}: ${messageOf(err)}`, { cause: err });
  });
  if (!ok || tf.getBackend() !== tfName) throw new Error(message);
}

function describe(info: Omit<BackendInfo, 'reason' | 'skipped'>): string {
  return info.adapter ? `${info.name} on ${info.adapter.label}` : info.name;
}

function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

function defaultImport(specifier: string): Promise<unknown> {
  return import(specifier);
}


function noop(): void {}
