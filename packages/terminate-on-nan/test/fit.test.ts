import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fit, isEvent, TrainingError, type TrainingEvent } from '@rxfit/core';
import { NonFiniteLossError, terminateOnNaN } from '@rxfit/terminate-on-nan';

before(async () => {
  await tf.setBackend('cpu');
});

function tinyModel(learningRate = 0.01): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
  model.compile({ optimizer: tf.train.sgd(learningRate), loss: 'meanSquaredError' });
  return model;
}

/** 12 samples; sample 5 has a NaN input, so with batchSize 2 and no shuffle batch 2 goes bad. */
function dataWithNaN(): { xs: tf.Tensor; ys: tf.Tensor } {
  const values = Array.from({ length: 24 }, (_, i) => (i % 5) / 5);
  values[10] = NaN;
  return { xs: tf.tensor2d(values, [12, 2]), ys: tf.ones([12, 1]) };
}

async function settle(run$: ReturnType<typeof fit>) {
  const events: TrainingEvent[] = [];
  let error: unknown;
  try {
    await lastValueFrom(
      run$.pipe(
        tap((e) => events.push(e)),
        toArray(),
      ),
    );
  } catch (e) {
    error = e;
  }
  return { events, error };
}

describe('terminateOnNaN with fit', () => {
  it('a NaN in the data stops the run at the batch that holds it; the epoch ends, trainEnd says stopped', async () => {
    const model = tinyModel();
    const { xs, ys } = dataWithNaN();
    const before = tf.memory().numTensors;
    const { events, error } = await settle(
      fit(model, { xs, ys }, { epochs: 3, batchSize: 2, shuffle: false }).pipe(terminateOnNaN()),
    );
    assert.equal(error, undefined);
    assert.deepEqual(
      events.filter(isEvent('batchEnd')).map((e) => e.batch),
      [0, 1, 2],
    );
    assert.ok(Number.isNaN(events.filter(isEvent('batchEnd'))[2]!.logs['loss']));
    const stop = events.find(isEvent('stopRequested'))!;
    assert.deepEqual([stop.by, stop.epoch, stop.batch], ['terminateOnNaN', 0, 2]);
    assert.deepEqual(stop.details, { epoch: 0, batch: 2, loss: NaN });
    assert.deepEqual(
      events.slice(-4).map((e) => e.type),
      ['stopRequested', 'epochEnd', 'trainEnding', 'trainEnd'],
    );
    assert.equal(events.find(isEvent('trainEnd'))?.reason, 'stopped');
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('a model made to diverge (SGD with a huge learning rate) stops at the first batch whose loss is not finite', async () => {
    const model = tinyModel(50);
    const xs = tf.tensor2d(
      Array.from({ length: 32 }, (_, i) => (i % 7) - 3),
      [16, 2],
    );
    const ys = tf.ones([16, 1]);
    const { events } = await settle(
      fit(model, { xs, ys }, { epochs: 20, batchSize: 1, shuffle: false }).pipe(terminateOnNaN()),
    );
    const batchEnds = events.filter(isEvent('batchEnd'));
    const firstBad = batchEnds.findIndex((e) => !Number.isFinite(e.logs['loss']!));
    assert.ok(firstBad > 0, 'the loss starts finite and blows up');
    assert.equal(firstBad, batchEnds.length - 1, 'no batch runs after the bad one');
    const bad = batchEnds[firstBad]!;
    const stop = events.find(isEvent('stopRequested'))!;
    assert.deepEqual([stop.epoch, stop.batch], [bad.epoch, bad.batch]);
    assert.equal(events.find(isEvent('trainEnd'))?.reason, 'stopped');
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('raiseError fails the run naming epoch and batch, ends with trainEnd failed, and the model can train again at once', async () => {
    const model = tinyModel();
    const { xs, ys } = dataWithNaN();
    const initial = model.getWeights().map((w) => w.clone());
    const before = tf.memory().numTensors;
    const { events, error } = await settle(
      fit(model, { xs, ys }, { epochs: 3, batchSize: 2, shuffle: false }).pipe(
        terminateOnNaN({ raiseError: true }),
      ),
    );
    assert.ok(error instanceof TrainingError);
    assert.ok(error.cause instanceof NonFiniteLossError);
    assert.deepEqual([error.epoch, error.batch], [0, 2]);
    assert.match(
      error.message,
      /NaN or Inf loss encountered at epoch 0, batch 2\. Loss value: NaN/,
    );
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ['batchEnd', 'trainEnd'],
    );
    const end = events.find(isEvent('trainEnd'))!;
    assert.equal(end.reason, 'failed');
    assert.match(end.error ?? '', /batch 2/);
    assert.equal(tf.memory().numTensors, before);
    // The loop let go of the model before the error reached us: a new run starts right away
    // (from finite weights: the NaN batch's update made them NaN, as in Keras).
    assert.ok(model.getWeights().some((w) => w.dataSync().some(Number.isNaN)));
    model.setWeights(initial);
    const clean = { xs: xs.slice([0, 0], [4, 2]), ys: ys.slice([0, 0], [4, 1]) };
    const again = await settle(
      fit(model, clean, { epochs: 2, batchSize: 2 }).pipe(terminateOnNaN({ raiseError: true })),
    );
    assert.equal(again.error, undefined);
    assert.equal(again.events.find(isEvent('trainEnd'))?.reason, 'completed');
    tf.dispose([xs, ys, clean.xs, clean.ys, ...initial]);
    model.dispose();
  });
});
