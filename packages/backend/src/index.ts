export { adam } from './adam.js';
export {
  BACKEND_ENV_VAR,
  BACKEND_NAMES,
  WASM_THREADS_ENV_VAR,
  useBestBackend,
  type BackendInfo,
  type BackendName,
  type SkippedBackend,
  type UseBestBackendOptions,
} from './use-best-backend.js';
export {
  registerWasmTrainingKernels,
  type WasmTrainingKernelsOptions,
} from './wasm-kernels/register-wasm-training-kernels.js';
export {
  BACKEND_DEVICE_KEY,
  isSoftwareAdapter,
  type GpuAdapter,
  type GpuAdapterInfoLike,
} from './webgpu.js';
