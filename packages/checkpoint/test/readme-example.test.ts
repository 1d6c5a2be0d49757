import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit, toHistory } from '@rxfit/core';
import { loadCheckpoint, modelCheckpoint } from '@rxfit/checkpoint';
import { release, tempDir } from './helpers.js';

describe('README usage', () => {
  it('runs as written (paths under a temporary folder)', async () => {
    const root = await tempDir();
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    // The README's example, with `checkpoints/` moved under the temporary folder.
    const dir = join(root, 'checkpoints');
    assert.match(readme, /filepath: 'checkpoints\/best'/);
    assert.match(readme, /filepath: 'checkpoints\/epoch-\{epoch:02d\}-\{val_loss:\.3f\}'/);

    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const xs = tf.randomNormal([20, 3], 0, 1, 'float32', 1);
    const ys = xs.sum(1, true);

    const run$ = fit(model, { xs, ys }, { epochs: 4, batchSize: 5, validationSplit: 0.2 }).pipe(
      modelCheckpoint({ filepath: join(dir, 'best'), monitor: 'val_loss', saveBestOnly: true }),
      modelCheckpoint({
        filepath: join(dir, 'epoch-{epoch:02d}-{val_loss:.3f}'),
        saveFreq: 'epoch',
      }),
    );
    const { history } = await lastValueFrom(run$.pipe(toHistory()));
    const best = await loadCheckpoint(join(dir, 'best')); // compiled, with Adam's state

    const entries = await readdir(dir);
    assert.ok(entries.includes('best'));
    const valLoss = history['val_loss'] ?? [];
    for (const [i, loss] of valLoss.entries()) {
      assert.ok(
        entries.includes(`epoch-0${i + 1}-${loss.toFixed(3)}`),
        `epoch ${i + 1} in ${entries.join(', ')}`,
      );
    }
    assert.equal(best.optimizer.getClassName(), 'Adam');
    release(model, best, xs, ys);
  });
});
