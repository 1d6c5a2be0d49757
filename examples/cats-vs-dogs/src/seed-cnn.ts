import * as tf from '@tensorflow/tfjs';
import { adam } from '@rxfit/backend';

/** Options of {@link seedCnn}. */
export interface SeedCnnOptions {
  /** [height, width, channels] of the input images. @default [64, 64, 3] */
  readonly inputShape?: readonly [number, number, number];
  /** 1 for a binary sigmoid output (the seed), more for a softmax over that many classes. @default 1 */
  readonly classes?: number;
}

/**
 * The seed script's CNN, layer for layer: conv2d 32 3x3 relu, maxPool 2, conv2d 32 3x3 relu,
 * maxPool 2, flatten, dense 128 relu, dense 1 sigmoid; compiled with adam, binary cross-entropy
 * and accuracy (categorical cross-entropy and softmax for more than one class). The optimizer is
 * `@rxfit/backend`'s `adam()`: tfjs' Adam with its defaults, one fused pass per variable on wasm.
 *
 * ## Example
 * ```ts
 * import { seedCnn } from '@rxfit/example-cats-vs-dogs/seed-cnn';
 * const model = seedCnn({ inputShape: [28, 28, 1], classes: 10 });
 * ```
 * @param options - See {@link SeedCnnOptions}.
 * @returns The compiled model.
 */
export function seedCnn(options: SeedCnnOptions = {}): tf.Sequential {
  const { inputShape = [64, 64, 3], classes = 1 } = options;
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [...inputShape], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: classes, activation: classes === 1 ? 'sigmoid' : 'softmax' }),
    ],
  });
  model.compile({
    optimizer: adam(),
    loss: classes === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}
