/**
 * The trial of the sweep benchmark: a dense model on 4,000 random rows of 32 features, trained on
 * tfjs' cpu backend for `epochs` with the trial's event log and backup (`context.resumable`).
 */
import * as tf from '@tensorflow/tfjs';
import { fit } from '@rxfit/core';
import type { TrialFunction } from '@rxfit/sweep';

export const trial: TrialFunction = async (params, context) => {
  await tf.setBackend('cpu');
  const xs = tf.randomNormal([4000, 32], 0, 1, 'float32', 1);
  const ys = tf.tidy(() => xs.slice([0, 0], [-1, 4]).sum(1, true).greater(0).toFloat());
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [32], units: Number(params['units']), activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(Number(params['lr'])), loss: 'binaryCrossentropy', metrics: ['acc'] });
  return context.resumable(model, (resume) =>
    fit(model, { xs, ys }, { epochs: Number(params['epochs']), batchSize: 64, validationSplit: 0.2, seed: 1, printWarnings: false, ...resume }),
  );
};
