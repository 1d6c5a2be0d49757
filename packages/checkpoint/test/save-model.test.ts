import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fileSystem, loadCheckpoint, loadWeights, saveModel } from '@rxfit/checkpoint';
import {
  optimizerState,
  predictions,
  release,
  tempDir,
  tinyModel,
  train,
  weightsOf,
} from './helpers.js';

describe('saveModel / loadCheckpoint', () => {
  it("restores the optimizer's state: Adam's iteration count and moments, and the next step matches", async () => {
    const dir = join(await tempDir(), 'adam');
    const model = tinyModel(tf.train.adam(0.05));
    await train(model, 3);
    await saveModel(model, dir);
    const loaded = await loadCheckpoint(dir);
    assert.equal(loaded.optimizer.getClassName(), 'Adam');
    assert.equal(loaded.optimizer.iterations, 3);
    const [expected, actual] = [
      await optimizerState(model.optimizer),
      await optimizerState(loaded.optimizer),
    ];
    assert.equal(expected.length, 1 + 2 * 4, 'iterations + m and v of 4 weights');
    assert.deepEqual(actual, expected);
    assert.deepEqual(predictions(loaded), predictions(model));
    // The restored state behaves the same: one more step gives the same weights.
    await train(model, 1);
    await train(loaded, 1);
    const [a, b] = [weightsOf(model), weightsOf(loaded)];
    a.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - b[i]![j]!) < 1e-6)));
    release(model, loaded);
  });

  it('the same checkpoint loads with tf.loadLayersModel(fileSystem(path)), compiled', async () => {
    const dir = join(await tempDir(), 'sgd');
    const model = tinyModel(tf.train.sgd(0.1));
    await train(model, 2);
    await saveModel(model, dir);
    const loaded = await tf.loadLayersModel(fileSystem(dir));
    assert.equal(loaded.optimizer.getClassName(), 'SGD');
    assert.equal(loaded.optimizer.iterations, 2);
    assert.deepEqual(predictions(loaded), predictions(model));
    release(model, loaded);
  });

  it('includeOptimizer: false saves the model without compile settings, as tfjs model.save', async () => {
    const dir = join(await tempDir(), 'plain');
    const model = tinyModel();
    await train(model, 1);
    await saveModel(model, dir, { includeOptimizer: false });
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(json['trainingConfig'], undefined);
    const loaded = await loadCheckpoint(dir);
    assert.equal(loaded.optimizer, undefined);
    assert.deepEqual(predictions(loaded), predictions(model));
    release(model, loaded);
  });

  it('weightsOnly saves weights and optimizer state without topology; loadWeights restores both', async () => {
    const dir = join(await tempDir(), 'weights');
    const model = tinyModel();
    await train(model, 2);
    await saveModel(model, dir, { weightsOnly: true });
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(json['modelTopology'], undefined);
    assert.equal(json['trainingConfig'], undefined);
    await assert.rejects(loadCheckpoint(dir), /holds weights only .*loadWeights\(model, path\)/);
    const target = tinyModel();
    await loadWeights(target, dir);
    assert.deepEqual(predictions(target), predictions(model));
    assert.deepEqual(await optimizerState(target.optimizer), await optimizerState(model.optimizer));
    // Loading again replaces the optimizer's variables without leaking the previous ones.
    const before = tf.memory().numTensors;
    await loadWeights(target, dir);
    assert.equal(tf.memory().numTensors, before);
    release(model, target);
  });

  it('loadWeights into a model with other weights names the path', async () => {
    const dir = join(await tempDir(), 'other');
    const model = tinyModel();
    await saveModel(model, dir, { weightsOnly: true });
    const other = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    await assert.rejects(
      loadWeights(other, dir),
      /loadWeights: cannot load .*other into this model: the model has 2 weights, the checkpoint 4/,
    );
    release(model, other);
  });

  it('leaks no tensor while saving and loading', async () => {
    const dir = join(await tempDir(), 'leak');
    const model = tinyModel();
    await train(model, 1);
    await saveModel(model, dir); // tfjs allocates its lazy singletons once
    const before = tf.memory().numTensors;
    await saveModel(model, dir, { weightsOnly: true });
    for (let i = 0; i < 3; i++) await saveModel(model, dir);
    assert.equal(tf.memory().numTensors, before);
    // A loaded model owns only its weights and its optimizer's variables.
    const loaded = await loadCheckpoint(dir);
    assert.ok(tf.memory().numTensors > before);
    release(loaded);
    assert.equal(tf.memory().numTensors, before);
    release(model);
  });

  it("an optimizer that cannot export its state (tfjs' Adamax) fails clearly", async () => {
    const dir = join(await tempDir(), 'adamax');
    const model = tinyModel(tf.train.adamax(0.01));
    await assert.rejects(
      saveModel(model, dir),
      /Adamax optimizer cannot export its state .*includeOptimizer: false/,
    );
    await saveModel(model, dir, { includeOptimizer: false });
    release(model);
  });
});
