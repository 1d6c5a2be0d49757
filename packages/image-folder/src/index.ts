// The package's API: imageFolder (Keras' flow_from_directory) and what a user passes to it or gets
// from it. Keras' building blocks for a pipeline of one's own are in '@rxfit/image-folder/pipeline';
// the few a user of imageFolder needs are re-exported here.
export {
  IMAGE_EXTENSIONS,
  KERAS_EXTENSIONS,
} from './discover-images.js';
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
  type ImageFolderOptions,
} from './resolve-options.js';
export {
  applyTransform,
  type ApplyTransformOptions,
  type FillMode,
  type ColorMode,
  type ClassMode,
  type ImagePixels,
  loadImage,
  type LoadImageOptions,
  type TransformParams,
  type Interpolation,
} from './pipeline.js';
