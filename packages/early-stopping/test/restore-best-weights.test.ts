import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { concat, from, lastValueFrom, tap, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, fit, isEvent, warningOf, type TrainingEvent } from '@rxfit/core';
import {
  earlyStopping,
  WEIGHTS_RESTORED_EVENT,
  type EarlyStoppingOptions,
} from '@rxfit/early-stopping';
import { epochEvents } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** y = 3x + 1 with a one-weight linear model from zeros: plain SGD with lr 0.05 improves every epoch. */
function linearProblem() {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [1],
        units: 1,
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
      }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  const xs = tf.linspace(-1, 1, 16).reshape([16, 1]);
  const ys = xs.mul(3).add(1);
  return { model, xs, ys, dispose: () => (tf.dispose([xs, ys]), model.dispose()) };
}

function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/**
 * Runs 8 epochs where the learning rate jumps to 10 after epoch 2, so the model diverges from
 * epoch 3 on and epoch 2 has the best val_loss. Captures each epoch's end-of-epoch weights.
 */
async function divergingRun(
  operators: MonoTypeOperatorFunction<TrainingEvent>[],
  options: { epochs?: number } = {},
) {
  const { model, xs, ys, dispose } = linearProblem();
  const atEpochEnd: number[][][] = [];
  const tensorsBefore = tf.memory().numTensors;
  const capture = tap((e: TrainingEvent) => {
    if (e.type !== 'epochEnd') return;
    atEpochEnd[e.epoch] = weightsOf(model);
    if (e.epoch === 2) controlOf(e)?.setLearningRate(10);
  });
  let run$ = fit(
    model,
    { xs, ys },
    { epochs: options.epochs ?? 8, batchSize: 4, shuffle: false, validationData: { xs, ys } },
  ).pipe(capture);
  for (const operator of operators) run$ = run$.pipe(operator);
  let events: TrainingEvent[] = [];
  let error: unknown;
  try {
    events = await lastValueFrom(run$.pipe(toArray()));
  } catch (e) {
    error = e;
  }
  const result = {
    events,
    error,
    atEpochEnd,
    final: weightsOf(model),
    valLoss: events.filter(isEvent('epochEnd')).map((e) => e.logs['val_loss']!),
    restored: events.flatMap((e) =>
      e.type === 'custom' && e.name === WEIGHTS_RESTORED_EVENT ? [e] : [],
    ),
    leaked: tf.memory().numTensors - tensorsBefore,
  };
  dispose();
  return result;
}

const es = (options: EarlyStoppingOptions) => earlyStopping({ monitor: 'val_loss', ...options });

describe('earlyStopping restoreBestWeights with fit', () => {
  it('the scenario is what it claims: val_loss improves until epoch 2, then diverges', async () => {
    const run = await divergingRun([]);
    const best = run.valLoss.indexOf(Math.min(...run.valLoss));
    assert.equal(best, 2);
    assert.ok(run.valLoss[3]! > run.valLoss[2]! && run.valLoss[4]! > run.valLoss[2]!);
    assert.deepEqual(run.final, run.atEpochEnd[7]);
  });

  it('S2: stopped by patience 2 at epoch 4, the model holds exactly epoch 2 weights, no tensor leaks', async () => {
    const run = await divergingRun([es({ patience: 2, restoreBestWeights: true })]);
    assert.equal(run.error, undefined);
    const stop = run.events.find(isEvent('stopRequested'));
    assert.equal(stop?.epoch, 4);
    assert.equal(stop?.details?.['bestEpoch'], 2);
    assert.notDeepEqual(
      run.atEpochEnd[4],
      run.atEpochEnd[2],
      'training did move the weights after the best epoch',
    );
    assert.deepEqual(run.final, run.atEpochEnd[2]);
    // The fact is recorded before trainEnd, the last event of the run.
    assert.deepEqual(
      run.events.slice(-2).map((e) => e.type),
      ['custom', 'trainEnd'],
    );
    assert.equal(run.restored.length, 1);
    assert.deepEqual(run.restored[0]!.data, {
      by: 'earlyStopping',
      epoch: 2,
      monitor: 'val_loss',
      value: run.valLoss[2],
    });
    assert.equal(run.leaked, 0);
  });

  it('S4: restores epoch 2 also when another operator stopped the run', async () => {
    const otherStop = tap((e: TrainingEvent) => {
      if (e.type === 'epochEnd' && e.epoch === 5) controlOf(e)?.stop('enough', { by: 'other' });
    });
    const run = await divergingRun([otherStop, es({ patience: 10, restoreBestWeights: true })]);
    assert.deepEqual(
      run.events.filter(isEvent('stopRequested')).map((e) => e.by),
      ['other'],
    );
    assert.equal(run.events.find(isEvent('trainEnd'))?.reason, 'stopped');
    assert.deepEqual(run.final, run.atEpochEnd[2]);
    assert.equal(run.leaked, 0);
  });

  it('restores epoch 2 when the epochs simply run out', async () => {
    const run = await divergingRun([es({ patience: 10, restoreBestWeights: true })], { epochs: 5 });
    assert.equal(run.events.find(isEvent('trainEnd'))?.reason, 'completed');
    assert.deepEqual(run.final, run.atEpochEnd[2]);
    assert.equal(run.leaked, 0);
  });

  it('operators placed after earlyStopping see the restored weights at trainEnd', async () => {
    let seenAtTrainEnd: number[][] | undefined;
    let model: tf.LayersModel | undefined;
    const after = tap((e: TrainingEvent) => {
      model ??= controlOf(e)?.model;
      if (e.type === 'trainEnd' && model) seenAtTrainEnd = weightsOf(model);
    });
    const run = await divergingRun([es({ patience: 2, restoreBestWeights: true }), after]);
    assert.deepEqual(seenAtTrainEnd, run.atEpochEnd[2]);
  });

  it('without restoreBestWeights the last weights stay', async () => {
    const run = await divergingRun([es({ patience: 2 })]);
    assert.deepEqual(run.final, run.atEpochEnd[4]);
    assert.equal(run.restored.length, 0);
    assert.equal(run.leaked, 0);
  });

  it('a failed run restores nothing (Keras skips on_train_end) and leaks nothing', async () => {
    const fail = tap((e: TrainingEvent) => {
      if (e.type === 'epochEnd' && e.epoch === 4)
        controlOf(e)?.defer(Promise.reject(new Error('disk full')));
    });
    const run = await divergingRun([fail, es({ patience: 10, restoreBestWeights: true })]);
    assert.match(String(run.error), /disk full/);
    assert.equal(run.events.length, 0, 'the stream errored');
    assert.deepEqual(run.final, run.atEpochEnd[4]);
    assert.equal(run.leaked, 0);
  });

  it('a cancelled run leaks nothing', async () => {
    const { model, xs, ys, dispose } = linearProblem();
    const tensorsBefore = tf.memory().numTensors;
    await new Promise<void>((resolve, reject) => {
      const subscription = fit(
        model,
        { xs, ys },
        { epochs: 50, batchSize: 4, validationData: { xs, ys } },
      )
        .pipe(es({ patience: 100, restoreBestWeights: true }))
        .subscribe({
          next: (e) => {
            if (e.type === 'epochEnd' && e.epoch === 2) {
              subscription.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
    });
    // The loop notices the cancellation at its next step; wait until it has let go of the model.
    for (let i = 0; i < 100 && (model as unknown as { isTraining: boolean }).isTraining; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(tf.memory().numTensors - tensorsBefore, 0);
    dispose();
  });

  it("missingMonitor 'warn': the Keras warning reaches a real run once", async () => {
    const run = await divergingRun(
      [earlyStopping({ monitor: 'val_acc', restoreBestWeights: true, missingMonitor: 'warn' })],
      { epochs: 5 },
    );
    const warnings = run.events.flatMap((e) => (warningOf(e) ? [warningOf(e)!.message] : []));
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /'val_acc' which is not available. Available metrics are: loss,val_loss,lr/,
    );
    assert.deepEqual(run.final, run.atEpochEnd[4], 'nothing monitored, nothing restored');
    assert.equal(run.restored.length, 0);
    assert.equal(run.leaked, 0);
  });

  it('after a resume whose best epoch was replayed, restores the first live epoch and says so', async () => {
    const { model, xs, ys, dispose } = linearProblem();
    // The replayed log: epochs 0-2, best val_loss at epoch 1, far below anything the live run reaches.
    const replay = epochEvents([{ val_loss: 1 }, { val_loss: 1e-9 }, { val_loss: 2 }], {
      replayed: true,
      runId: 'r',
    });
    const atEpochEnd: number[][][] = [];
    const capture = tap((e: TrainingEvent) => {
      if (e.type === 'epochEnd' && !e.replayed) atEpochEnd[e.epoch] = weightsOf(model);
    });
    const tensorsBefore = tf.memory().numTensors;
    const live = fit(
      model,
      { xs, ys },
      {
        epochs: 6,
        initialEpoch: 3,
        batchSize: 4,
        shuffle: false,
        validationData: { xs, ys },
        runId: 'r',
        firstSeq: replay.length,
      },
    );
    const events = await lastValueFrom(
      concat(from(replay), live).pipe(
        capture,
        es({ patience: 10, restoreBestWeights: true }),
        toArray(),
      ),
    );
    const restored = events.find((e) => e.type === 'custom' && e.name === WEIGHTS_RESTORED_EVENT);
    assert.ok(restored?.type === 'custom');
    assert.equal((restored.data as { epoch: number }).epoch, 3);
    assert.deepEqual(weightsOf(model), atEpochEnd[3]);
    assert.notDeepEqual(atEpochEnd[5], atEpochEnd[3]);
    const warnings = events.flatMap((e) => (warningOf(e) ? [warningOf(e)!.message] : []));
    assert.deepEqual(warnings, [
      'restoreBestWeights: the best epoch (1) was replayed from a log and its weights are not available; restoring epoch 3 instead',
    ]);
    assert.equal(tf.memory().numTensors, tensorsBefore);
    dispose();
  });
});
