import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-kernels/register-wasm-training-kernels.js';

/**
 * The engines `useBestBackend` knows, in the order it tries them. `tensorflow-gpu` and
 * `tensorflow` are the native packages `@tensorflow/tfjs-node-gpu` and `@tensorflow/tfjs-node`
 * (both register the tfjs backend named `'tensorflow'`).
 *
 * ## Example
 * ```ts
 * import { useBestBackend, type BackendName } from '@rxfit/backend';
 *
 * const wanted: BackendName = 'wasm';
 * await useBestBackend({ prefer: wanted });
 * ```
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Every {@link BackendName}, in the order `useBestBackend` tries them.
 *
 * ## Example
 * ```ts
 * import { BACKEND_NAMES } from '@rxfit/backend';
 *
 * console.log(BACKEND_NAMES.join(' > ')); // tensorflow-gpu > tensorflow > wasm > cpu
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze([
  'tensorflow-gpu',
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
   * Where `RXFIT_BACKEND` is read.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Loads a native package by name. A port for tests and bundlers.
   * @default (specifier) => import(specifier)
   */
  readonly importModule?: (specifier: string) => Promise<unknown>;
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
  /** The tfjs backend name now active (`tf.getBackend()`): `'tensorflow'`, `'wasm'` or `'cpu'`. */
  readonly tfBackend: string;
  /** The kernels registered to complete the backend for training (only for `wasm`, else empty). */
  readonly kernelsPatched: readonly string[];
  /** Why this one: forced by `RXFIT_BACKEND`, preferred by the options, or the first that loaded. */
  readonly reason: string;
  /** The backends tried before it, with the reasons they failed. */
  readonly skipped: readonly SkippedBackend[];
  /** For `wasm`: whether the SIMD binary is in use (about 2x faster than the plain one). */
  readonly simd?: boolean;
}

const NATIVE_PACKAGE: Readonly<Record<'tensorflow-gpu' | 'tensorflow', string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Selects the fastest TensorFlow.js backend present and makes it the active one: native
 * TensorFlow with CUDA (`@tensorflow/tfjs-node-gpu`), native TensorFlow
 * (`@tensorflow/tfjs-node`), WebAssembly completed with the kernels training needs, then the
 * pure-JS `cpu` backend. The native packages are optional dependencies that are loaded only
 * if installed. Calling it again is cheap and gives the same answer.
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
 * @throws RangeError when `RXFIT_BACKEND` or `prefer` is not a {@link BackendName}.
 * @throws Error when `RXFIT_BACKEND` names a backend that cannot be loaded.
 */
export async function useBestBackend(options: UseBestBackendOptions = {}): Promise<BackendInfo> {
  const logger = options.logger ?? noop;
  const env = options.env ?? process.env;
  const importModule = options.importModule ?? defaultImport;
  const forcedRaw = env[BACKEND_ENV_VAR]?.trim();
  if (options.prefer !== undefined && !isBackendName(options.prefer)) {
    throw new RangeError(
      `useBestBackend: options.prefer is ${JSON.stringify(options.prefer)}; use one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  if (forcedRaw) {
    if (!isBackendName(forcedRaw)) {
      throw new RangeError(
        `${BACKEND_ENV_VAR}=${JSON.stringify(forcedRaw)} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`,
      );
    }
    try {
      const info = await activate(forcedRaw, importModule);
      logger(`@rxfit/backend: using ${forcedRaw} (forced by ${BACKEND_ENV_VAR})`);
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
      const info = await activate(name, importModule);
      const reason =
        name === options.prefer
          ? 'preferred by options.prefer'
          : skipped.length === 0
            ? 'first in order'
            : 'first that loaded';
      logger(`@rxfit/backend: using ${name} (${reason})`);
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

async function activate(
  name: BackendName,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<Omit<BackendInfo, 'reason' | 'skipped'>> {
  switch (name) {
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
      await setBackendOrThrow('wasm', 'the wasm backend failed to initialise');
      return {
        name,
        tfBackend: tf.getBackend(),
        kernelsPatched,
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      };
    }
    case 'cpu':
      await setBackendOrThrow('cpu', 'the cpu backend failed to initialise');
      return { name, tfBackend: tf.getBackend(), kernelsPatched: [] };
  }
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

async function setBackendOrThrow(tfName: string, message: string): Promise<void> {
  // setBackend warns and resolves false on init failure instead of rejecting.
  const ok = await tf.setBackend(tfName).catch((err: unknown) => {
    throw new Error(`${message}: ${messageOf(err)}`, { cause: err });
  });
  if (!ok || tf.getBackend() !== tfName) throw new Error(message);
}

function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

function defaultImport(specifier: string): Promise<unknown> {
  return import(specifier);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}

function noop(): void {}
