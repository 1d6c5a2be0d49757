import * as tf from '@tensorflow/tfjs';

/** A tiny compiled classifier: 4 inputs → 3 relu → 1 sigmoid. */
export function tinyModel(optimizer: tf.Optimizer | string = 'adam'): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      tf.layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
  model.compile({ optimizer, loss: 'binaryCrossentropy', metrics: ['acc'] });
  return model;
}

/** `n` samples of fixed random data. */
export function tinyData(n: number): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => {
    const xs = tf.randomNormal([n, 4], 0, 1, 'float32', 7);
    // Learnable labels: whether x0 + x1 > 0.
    const ys = tf.greater(xs.slice([0, 0], [n, 1]).add(xs.slice([0, 1], [n, 1])), 0).toFloat();
    return { xs, ys };
  });
}

/** A copy of every weight of a model as plain arrays. */
export function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array).map((a) => a.slice());
}

/** The largest absolute difference between two weight lists. */
export function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((wa, i) => wa.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))));
  return max;
}
