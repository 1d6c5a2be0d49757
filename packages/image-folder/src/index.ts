// The package's API: imageFolder (Keras' flow_from_directory) and what a user passes to it or gets
// from it. Keras' building blocks for a pipeline of one's own are in '@rxfit/image-folder/pipeline'.
export {
  type FillMode,
} from './affine-transform.js';
export {
  applyTransform,
  type ApplyTransformOptions,
} from './apply-transform.js';
export {
  type ColorMode,
} from './convert-color.js';
export {
  IMAGE_EXTENSIONS,
  KERAS_EXTENSIONS,
} from './discover-images.js';
export {
  type ClassMode,
} from './encode-labels.js';
export {
  type ImageBatch,
  imageFolder,
  type ImageFolder,
  type ImageFolderStats,
  type LabelledBatch,
} from './image-folder.js';
export {
  DEFAULT_LIMIT_INPUT_PIXELS,
  DEFAULT_MAX_BATCH_PIXELS,
} from './image-header.js';
export {
  type ImagePixels,
} from './image-pixels.js';
export {
  loadImage,
  type LoadImageOptions,
} from './load-image.js';
export {
  type TransformParams,
} from './random-transform.js';
export {
  type Interpolation,
} from './resize-image.js';
export {
  type ImageFolderOptions,
} from './resolve-options.js';
