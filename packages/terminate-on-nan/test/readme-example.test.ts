import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
// The README's usage example, verbatim below the setup, so the docs cannot drift.
import { lastValueFrom, toArray } from 'rxjs';
import { fit, isEvent } from '@rxfit/core';
import { terminateOnNaN } from '@rxfit/terminate-on-nan';

before(async () => {
  await tf.setBackend('cpu');
});

it('README example runs', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  const xs = tf.tensor2d([[0], [1], [2], [3], [NaN], [5], [6], [7]]);
  const ys = tf.ones([8, 1]);
  const lines: unknown[] = [];
  const console = { log: (line: unknown) => lines.push(line) };

  const events = await lastValueFrom(
    fit(model, { xs, ys }, { epochs: 20, batchSize: 2, shuffle: false }).pipe(
      terminateOnNaN(),
      toArray(),
    ),
  );
  const stop = events.find(isEvent('stopRequested'));
  console.log(stop?.reason); // Epoch 0, batch 2: invalid loss NaN, terminating training

  assert.deepEqual(lines, ['Epoch 0, batch 2: invalid loss NaN, terminating training']);
  tf.dispose([xs, ys]);
  model.dispose();
});
