export { applyTransform, type ApplyTransformOptions } from './apply-transform.js';
export {
  affineTransform,
  transformMatrix,
  type AffineMatrix,
  type FillMode,
} from './affine-transform.js';
export { channelsOf, convertColor, type ColorMode } from './convert-color.js';
export { decodeBmp } from './decode-bmp.js';
export { decodeImage, type DecodeOptions } from './decode-image.js';
export { decodeNetpbm } from './decode-netpbm.js';
export type { ImagePixels } from './image-pixels.js';
export { loadImage, type LoadImageOptions } from './load-image.js';
export {
  IDENTITY_TRANSFORM,
  randomTransform,
  type AugmentationSettings,
  type TransformParams,
} from './random-transform.js';
export { resizeImage, type Interpolation, aspectCropBox, type CropBox } from './resize-image.js';
export {
  compareCodePoints,
  discoverImages,
  IMAGE_EXTENSIONS,
  KERAS_EXTENSIONS,
  subsetRange,
  type Discovery,
  type DiscoveryOptions,
} from './discover-images.js';
export { encodeLabels, type ClassMode } from './encode-labels.js';
export {
  imageFolder,
  type ImageBatch,
  type ImageFolder,
  type ImageFolderStats,
  type LabelledBatch,
} from './image-folder.js';
export { loadBatch, type BatchConfig, type LoadedBatch } from './load-batch.js';
export { prefetch } from './prefetch.js';
export {
  resolveOptions,
  type ImageFolderOptions,
  type ResolvedOptions,
} from './resolve-options.js';
export { createWorkerPool, type WorkerPool } from './worker-pool.js';
export { bmpHeader, type BmpHeader } from './decode-bmp.js';
export { netpbmHeader } from './decode-netpbm.js';
export {
  checkImagePixels,
  DEFAULT_LIMIT_INPUT_PIXELS,
  DEFAULT_MAX_BATCH_PIXELS,
  imageSize,
  pixelBudget,
  readImageFile,
} from './image-header.js';
