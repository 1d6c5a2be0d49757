import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { callback, fit, toHistory } from '@rxfit/core';

await tf.setBackend('cpu');
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
    tf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
const xs = tf.randomNormal([200, 4], 0, 1, 'float32', 1);
const ys = xs.sum(1, true).greater(0).toFloat();

// The seed's custom callback: stop once the model is good enough.
const stopWhenGood = callback({
  onEpochEnd: (epoch, logs, run) => {
    if ((logs['val_acc'] ?? 0) > 0.95 || (logs['loss'] ?? Infinity) < 0.1) {
      run.stop('val_acc > 0.95 or loss < 0.1', { by: 'stopWhenGood' });
    }
  },
});
const history = await lastValueFrom(
  fit(model, { xs, ys }, { epochs: 50, batchSize: 32, validationSplit: 0.2, seed: 1 }).pipe(
    stopWhenGood,
    toHistory(),
  ),
);
const last = (key: string) => history.history[key]?.at(-1)?.toFixed(3);
console.log(`stopped after ${history.epoch.length} epochs: val_acc ${last('val_acc')}, loss ${last('loss')}`);
