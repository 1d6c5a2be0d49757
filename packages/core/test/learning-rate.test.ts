import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, fit, getLearningRate, isEvent, setLearningRate } from '@rxfit/core';
import { maxDiff, tinyData, tinyModel, weightsOf } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const optimizers: Record<string, () => tf.Optimizer> = {
  sgd: () => tf.train.sgd(0.1),
  momentum: () => tf.train.momentum(0.1, 0.9),
  adam: () => tf.train.adam(0.05),
  adamax: () => tf.train.adamax(0.05),
  rmsprop: () => tf.train.rmsprop(0.05),
  adagrad: () => tf.train.adagrad(0.1),
  adadelta: () => tf.train.adadelta(1),
};

describe('setLearningRate', () => {
  for (const [name, make] of Object.entries(optimizers)) {
    it(`changes the rate that ${name}'s next step uses`, async () => {
      const model = tinyModel(make());
      const { xs, ys } = tinyData(16);
      const snapshots: Float32Array[][] = [];
      const events = await lastValueFrom(
        fit(model, { xs, ys }, { epochs: 3, batchSize: 8 }).pipe(
          tap((e) => {
            if (e.type === 'epochBegin' && e.epoch === 1) controlOf(e)!.setLearningRate(0, { by: 'test' });
            if (e.type === 'epochBegin' && e.epoch === 2) controlOf(e)!.setLearningRate(0.01, { by: 'test' });
            if (e.type === 'epochEnd') snapshots.push(weightsOf(model));
          }),
          toArray(),
        ),
      );
      assert.equal(maxDiff(snapshots[0]!, snapshots[1]!), 0, 'lr 0: two steps leave the weights unchanged');
      assert.ok(maxDiff(snapshots[1]!, snapshots[2]!) > 0, 'lr 0.01: the weights move again');
      assert.deepEqual(
        events.filter(isEvent('epochEnd')).map((e) => e.logs['lr']),
        [getLearningRate(make()), 0, 0.01],
      );
      const changes = events.filter(isEvent('learningRateChanged'));
      assert.deepEqual(
        changes.map((e) => [e.epoch, e.to, e.by]),
        [[1, 0, 'test'], [2, 0.01, 'test']],
      );
      tf.dispose([xs, ys]);
    });
  }

  it('scales an sgd step by the new rate', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const sgd = tf.train.sgd(0.1);
    const step = () => sgd.minimize(() => w.square().sum<tf.Scalar>());
    step();
    const after1 = Array.from(w.dataSync()); // w - 0.1 * 2w = 0.8w
    setLearningRate(sgd, 0.5);
    step();
    const after2 = Array.from(w.dataSync()); // 0.8w - 0.5 * 1.6w = 0
    assert.deepEqual(after1.map((v) => Math.round(v * 1e5) / 1e5), [0.8, 1.6]);
    assert.deepEqual(after2.map((v) => Math.abs(Math.round(v * 1e5) / 1e5)), [0, 0]);
    w.dispose();
    sgd.dispose();
  });

  it('rejects a bad rate and an optimizer whose rate cannot change', () => {
    assert.throws(() => setLearningRate(tf.train.adam(), -1), /finite number >= 0, got -1/);
    assert.throws(() => setLearningRate(tf.train.adam(), Number.NaN), /got NaN/);
    const frozen = {
      getConfig: () => ({ learningRate: 0.1 }),
      getClassName: () => 'Frozen',
    } as unknown as tf.Optimizer;
    assert.throws(() => setLearningRate(frozen, 0.2), /Frozen does not let rxfit change its learning rate/);
  });
});
