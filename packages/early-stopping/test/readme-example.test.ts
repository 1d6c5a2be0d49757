import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
// The README's usage example, verbatim below the setup, so the docs cannot drift.
import { lastValueFrom } from 'rxjs';
import { fit, toHistory } from '@rxfit/core';
import { earlyStopping } from '@rxfit/early-stopping';

before(async () => {
  await tf.setBackend('cpu');
});

it('README example runs', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const xs = tf.linspace(-1, 1, 32).reshape([32, 1]);
  const ys = xs.mul(-2).add(0.5);
  const lines: string[] = [];
  const console = { log: (line: string) => lines.push(line) };

  const history = await lastValueFrom(
    fit(model, { xs, ys }, { epochs: 100, validationSplit: 0.25 }).pipe(
      earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true }),
      toHistory(),
    ),
  );
  console.log(`ran ${history.epoch.length} epochs`);

  assert.match(lines[0]!, /^ran \d+ epochs$/);
  assert.ok(history.epoch.length >= 1 && history.epoch.length <= 100);
  tf.dispose([xs, ys]);
  model.dispose();
});
