/**
 * One trial of the sweep: the main example's CNN (examples/cats-vs-dogs seed-cnn: conv 32, pool,
 * conv 32, pool, flatten, dense, softmax) with the dense width and Adam's learning rate from the
 * sweep, trained on the digit folders that main.ts exported (RXFIT_SWEEP_DATA). It runs in a child
 * process of the sweep; `context.resumable` gives it an event log and a backup to resume from.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fit } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { imageFolder } from '@rxfit/image-folder';
import type { TrialFunction } from '@rxfit/sweep';

export const trial: TrialFunction = async (params, context) => {
  await useBestBackend();
  const data = process.env['RXFIT_SWEEP_DATA'];
  if (!data) throw new Error('RXFIT_SWEEP_DATA must name the exported digit folders (main.ts sets it)');
  const epochs = Number(process.env['RXFIT_SWEEP_EPOCHS'] ?? '4');
  const common = { targetSize: [28, 28], colorMode: 'grayscale', classMode: 'categorical', batchSize: 32, rescale: 1 / 255 } as const;
  const train = await imageFolder(path.join(data, 'training_set'), { ...common, seed: 1 });
  const test = await imageFolder(path.join(data, 'test_set'), { ...common, shuffle: false });
  const model = cnn(Number(params['units']), Number(params['lr']), train.classNames.length);
  return context.resumable(model, (resume) =>
    fit(model, train, { epochs, validationData: test, printWarnings: false, ...resume }),
  );
};

/** The seed CNN with a dense layer of `units` and Adam at `lr`. */
function cnn(units: number, lr: number, classes: number): tf.Sequential {
  tf.util.assert(Number.isInteger(units) && units > 0, () => `units must be a positive integer, got ${String(units)}`);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
