import * as tf from '@tensorflow/tfjs';
import { firstLine, messageOf } from './error-text.js';

/**
 * The GPU adapter the `webgpu` backend runs on, as Dawn reports it (`GPUAdapter.info`), and
 * whether it is a software one (a CPU emulating a GPU).
 *
 * ## Example
 * ```ts
 * import { useBestBackend } from '@rxfit/backend';
 *
 * const { adapter } = await useBestBackend();
 * if (adapter) console.log(`${adapter.vendor} ${adapter.architecture}, software: ${adapter.software}`);
 * ```
 */
export interface GpuAdapter {
  /** `GPUAdapterInfo.vendor`, e.g. `'nvidia'`, `'amd'`, `'intel'`, `'apple'`, `'google'`. */
  readonly vendor: string;
  /** `GPUAdapterInfo.architecture`, e.g. `'ampere'`, `'rdna-3'`, `'swiftshader'`. */
  readonly architecture: string;
  /** `GPUAdapterInfo.device` (may be empty: browsers and drivers hide it). */
  readonly device: string;
  /** `GPUAdapterInfo.description`, e.g. `'SwiftShader driver 5.0.0'`. */
  readonly description: string;
  /** Whether it is a software adapter; see {@link isSoftwareAdapter}. */
  readonly software: boolean;
  /** One line for logs and `trainBegin.params.backend`: `google swiftshader (software, SwiftShader driver 5.0.0)`. */
  readonly label: string;
}

/** The fields of `GPUAdapterInfo` that are read (all optional: older Dawn builds lack some). */
export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
  /** Dawn's own adapter type, where a build exposes it (`'cpu'` for a software one). */
  readonly adapterType?: string;
  readonly type?: string;
}

const SOFTWARE_NAMES =
  /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render|software|\bcpu\b/i;

/**
 * Whether a WebGPU adapter is a software one: the spec's `isFallbackAdapter`, an adapter type
 * of `cpu`, or a name of a known software rasteriser (SwiftShader, Mesa llvmpipe/lavapipe/softpipe,
 * Microsoft WARP / Basic Render Driver) in its vendor, architecture, device or description.
 * `useBestBackend` never picks such an adapter by itself.
 *
 * ## Example
 * ```ts
 * import { isSoftwareAdapter } from '@rxfit/backend';
 *
 * isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }); // true
 * isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere' }); // false
 * ```
 *
 * @param info - A `GPUAdapterInfo` (or any object with its fields).
 * @returns `true` for a software adapter.
 */
export function isSoftwareAdapter(info: GpuAdapterInfoLike): boolean {
  if (info.isFallbackAdapter === true) return true;
  const type = (info.adapterType ?? info.type ?? '').toLowerCase();
  if (type === 'cpu') return true;
  const names = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean)
    .join(' ');
  return SOFTWARE_NAMES.test(names);
}

/** {@link GpuAdapter} from an adapter's info. @internal */
function describeAdapter(info: GpuAdapterInfoLike): GpuAdapter {
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const software = isSoftwareAdapter(info);
  const name = [vendor, architecture].filter(Boolean).join(' ') || device || 'unknown adapter';
  const label = `${name} (${software ? 'software' : 'hardware'}${description ? `, ${description}` : ''})`;
  return Object.freeze({ vendor, architecture, device, description, software, label });
}

/**
 * The key under which the active tfjs backend instance carries a one-line description of the
 * device it runs on (`Symbol.for`, so that it needs no shared module). `@rxfit/core`'s `fit`
 * appends it to `trainBegin.params.backend`. Set on the `webgpu` backend; a custom backend can
 * set it too.
 *
 * ## Example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { BACKEND_DEVICE_KEY, useBestBackend } from '@rxfit/backend';
 *
 * await useBestBackend({ env: { RXFIT_BACKEND: 'webgpu' } });
 * console.log((tf.backend() as unknown as Record<symbol, unknown>)[BACKEND_DEVICE_KEY]);
 * // 'google swiftshader (software, SwiftShader driver 5.0.0)'
 * ```
 */
export const BACKEND_DEVICE_KEY: unique symbol = Symbol.for('rxfit.backend.device') as never;

/** The part of Dawn's `webgpu` package that is used. */
interface DawnModule {
  readonly create: (options: string[]) => GpuLike;
  readonly globals: object;
}
/** `navigator.gpu` as Dawn creates it. */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<unknown>;
}
type WebGPUBackendCtor = new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;

/** The Dawn package, an optional peer dependency. @internal */
const DAWN_PACKAGE = 'webgpu';

interface Probe {
  readonly gpu: GpuLike;
  readonly adapter: AdapterLike;
  readonly info: GpuAdapter;
  readonly globals: object;
}

/** Per loader (the real `import`, or a test's port): Dawn enumerates adapters once. */
const probes = new WeakMap<(specifier: string) => Promise<unknown>, Probe>();

/**
 * Finds Dawn's preferred adapter (`powerPreference: 'high-performance'`: a discrete GPU before
 * an integrated one, either before a software one) and describes it. Cached: Dawn enumerates
 * adapters once per process.
 * @internal
 */
export async function probeWebGpuAdapter(
  importModule: (specifier: string) => Promise<unknown>,
): Promise<Probe> {
  const known = probes.get(importModule);
  if (known) return known;
  let dawn: DawnModule;
  try {
    dawn = (await importModule(DAWN_PACKAGE)) as DawnModule;
  } catch (err) {
    throw new Error(
      `${DAWN_PACKAGE} (Dawn's Node bindings) is not installed or failed to load (${firstLine(messageOf(err))})`,
      { cause: err },
    );
  }
  if (typeof dawn.create !== 'function') {
    throw new Error(`${DAWN_PACKAGE} loaded but exports no create(): not Dawn's Node bindings`);
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'Dawn found no GPU adapter (it needs a Vulkan driver and loader on Linux, Metal on macOS, D3D12 on Windows)',
    );
  }
  const rawInfo = adapter.info ?? {};
  const info = describeAdapter({
    ...pick(rawInfo),
    ...(adapter.isFallbackAdapter === true ? { isFallbackAdapter: true } : {}),
  });
  const probe = { gpu, adapter, info, globals: dawn.globals };
  probes.set(importModule, probe);
  return probe;
}

/** The adapter the registered `webgpu` backend was made for. */
let registeredFor: AdapterLike | undefined;

/** Registers tfjs' `webgpu` backend on Dawn's adapter (once) and makes it the active backend. @internal */
export async function activateWebGpu(
  importModule: (specifier: string) => Promise<unknown>,
): Promise<GpuAdapter> {
  const { gpu, adapter, info, globals } = await probeWebGpuAdapter(importModule);
  // The backend uses the WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals, as in a
  // browser; Dawn's package provides them. Set only when webgpu is used, never overwritten.
  for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(globals))) {
    if (!(key in globalThis)) Object.defineProperty(globalThis, key, value);
  }
  // In Node, importing the package registers its kernels but not its backend (it looks for
  // navigator.gpu, which Node lacks): the backend is registered here, on Dawn's adapter.
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: WebGPUBackendCtor;
  };
  if (
    registeredFor !== undefined &&
    registeredFor !== adapter &&
    tf.findBackendFactory('webgpu') != null
  ) {
    // Registered by an earlier call on another loader's adapter: this one must name its own.
    if (tf.getBackend() === 'webgpu') await tf.setBackend('cpu');
    tf.removeBackend('webgpu');
  }
  if (tf.findBackendFactory('webgpu') == null) {
    registeredFor = adapter;
    tf.registerBackend(
      'webgpu',
      async () => {
        const device = await adapter.requestDevice(deviceDescriptor(adapter));
        const backend = withNavigatorGpu(gpu, () => new WebGPUBackend(device, adapter.info));
        Object.defineProperty(backend, BACKEND_DEVICE_KEY, { value: info.label });
        return backend;
      },
      // Below cpu (1): a program that never asks for webgpu keeps tfjs' own default.
      0,
    );
  }
  const ok = await tf.setBackend('webgpu');
  if (!ok || tf.getBackend() !== 'webgpu') {
    throw new Error(`the webgpu backend failed to initialise on ${info.label}`);
  }
  return info;
}

/**
 * Runs `fn` with `navigator.gpu` set to Dawn's GPU: the backend's constructor refuses to run
 * without it. Put back right after: tfjs-core reads `navigator` to guess the platform, and a
 * global reference to Dawn's GPU keeps Node from exiting (Dawn's README, "Lifetime").
 */
function withNavigatorGpu<T>(gpu: GpuLike, fn: () => T): T {
  const g = globalThis as { navigator?: object };
  const navigatorBefore = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const nav = g.navigator;
  const gpuBefore = nav ? Object.getOwnPropertyDescriptor(nav, 'gpu') : undefined;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu },
      configurable: true,
      writable: true,
    });
  try {
    return fn();
  } finally {
    if (!nav) {
      if (navigatorBefore) Object.defineProperty(globalThis, 'navigator', navigatorBefore);
      else Reflect.deleteProperty(globalThis, 'navigator');
    } else if (gpuBefore) Object.defineProperty(nav, 'gpu', gpuBefore);
    else Reflect.deleteProperty(nav, 'gpu');
  }
}

/** As tfjs-backend-webgpu asks for its device in the browser (timestamps, the adapter's limits). */
function deviceDescriptor(adapter: AdapterLike): object {
  const limits = adapter.limits;
  return {
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits['maxComputeWorkgroupStorageSize'],
      maxComputeWorkgroupsPerDimension: limits['maxComputeWorkgroupsPerDimension'],
      maxStorageBufferBindingSize: limits['maxStorageBufferBindingSize'],
      maxBufferSize: limits['maxBufferSize'],
      maxComputeWorkgroupSizeX: limits['maxComputeWorkgroupSizeX'],
      maxComputeInvocationsPerWorkgroup: limits['maxComputeInvocationsPerWorkgroup'],
    },
  };
}

function pick(info: GpuAdapterInfoLike): GpuAdapterInfoLike {
  // GPUAdapterInfo's fields are getters on its prototype: spread would copy none of them.
  const out: Record<string, unknown> = {};
  for (const key of [
    'vendor',
    'architecture',
    'device',
    'description',
    'isFallbackAdapter',
    'adapterType',
    'type',
  ] as const) {
    const value = info[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
