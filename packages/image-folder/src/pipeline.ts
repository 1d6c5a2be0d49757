// Keras' image pipeline, piece by piece (ImageDataGenerator's building blocks), for a pipeline of
// one's own: '@rxfit/image-folder/pipeline'. imageFolder composes them.
export {
  type AffineMatrix,
  affineTransform,
  type FillMode,
  transformMatrix,
} from './affine-transform.js';
export {
  applyTransform,
  type ApplyTransformOptions,
} from './apply-transform.js';
export {
  channelsOf,
  type ColorMode,
  convertColor,
} from './convert-color.js';
export {
  decodeBmp,
} from './decode-bmp.js';
export {
  decodeImage,
  type DecodeOptions,
} from './decode-image.js';
export {
  decodeNetpbm,
} from './decode-netpbm.js';
export {
  discoverImages,
  type Discovery,
  type DiscoveryOptions,
} from './discover-images.js';
export {
  type ClassMode,
  encodeLabels,
} from './encode-labels.js';
export {
  type ImagePixels,
} from './image-pixels.js';
export {
  loadImage,
  type LoadImageOptions,
} from './load-image.js';
export {
  type AugmentationSettings,
  IDENTITY_TRANSFORM,
  randomTransform,
  type TransformParams,
} from './random-transform.js';
export {
  aspectCropBox,
  type CropBox,
  type Interpolation,
  resizeImage,
} from './resize-image.js';
