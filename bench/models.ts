import * as tf from '@tensorflow/tfjs';

/**
 * The seed CNN: 64x64x3 → conv 32 3x3 relu → maxPool 2 → conv 32 3x3 relu → maxPool 2 → flatten
 * → dense 128 relu → dense `classes` (sigmoid for 1, softmax otherwise), adam.
 */
export function seedCnn(options: { inputShape?: [number, number, number]; classes?: number } = {}): tf.Sequential {
  const { inputShape = [64, 64, 3], classes = 1 } = options;
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: classes, activation: classes === 1 ? 'sigmoid' : 'softmax' }),
    ],
  });
  model.compile({
    optimizer: 'adam',
    loss: classes === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

/** The small MLP of the benchmarks: 784 → 128 relu → 10 softmax, adam. */
export function mlp(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
