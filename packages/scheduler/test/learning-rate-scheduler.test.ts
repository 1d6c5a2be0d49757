import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concat, from, lastValueFrom, tap, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { fit, getLearningRate, type Logs, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { learningRateScheduler, reduceLROnPlateau, stepDecay } from '@rxfit/scheduler';

function close(actual: number | undefined, expected: number, tolerance = 1e-7): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    `expected ${expected}, got ${actual}`,
  );
}

const loggedRates = (events: readonly TrainingEvent[]) =>
  events.flatMap((e) => (e.type === 'epochEnd' ? [e.logs['lr']!] : []));

async function collect(
  run$: ReturnType<typeof scriptedRun>,
): Promise<{ events: TrainingEvent[]; error: unknown }> {
  const events: TrainingEvent[] = [];
  try {
    await lastValueFrom(run$.pipe(tap((e) => events.push(e))));
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe('learningRateScheduler', () => {
  it("the seed's schedule logs lr 9.0484e-4 at epoch 11 and 8.1873e-4 at epoch 12", async () => {
    const logs: Logs[] = Array.from({ length: 13 }, (_, i) => ({ loss: 1 / (i + 1) }));
    const events = await lastValueFrom(
      scriptedRun(logs, { learningRate: 1e-3 }).pipe(
        learningRateScheduler((epoch, _lr) =>
          epoch < 10 ? 1e-3 : 1e-3 * Math.exp(0.1 * (10 - epoch)),
        ),
        toArray(),
      ),
    );
    const lr = loggedRates(events);
    for (let epoch = 0; epoch <= 10; epoch++) close(lr[epoch], 1e-3, 1e-10);
    close(lr[11], 9.0484e-4, 1e-8);
    close(lr[12], 8.1873e-4, 1e-8);
    // Epochs 0-10 keep the rate: no change events until epoch 11.
    const changes = events.filter((e) => e.type === 'learningRateChanged');
    assert.deepEqual(
      changes.map((e) => e.epoch),
      [11, 12],
    );
    assert.equal(
      changes[0]?.type === 'learningRateChanged' && changes[0].by,
      'learningRateScheduler',
    );
    // Set at epochBegin, before the epoch's first batch.
    const at = events.findIndex((e) => e.type === 'learningRateChanged');
    assert.equal(events[at - 1]?.type, 'epochBegin');
    assert.equal(events[at + 1]?.type, 'batchBegin');
  });

  it('Keras test_schedule_dependent_on_previous_learning_rate: lr / 2 from 0.03 over 2 epochs → 0.0075', async () => {
    const events = await lastValueFrom(
      scriptedRun([{ loss: 1 }, { loss: 1 }], { learningRate: 0.03 }).pipe(
        learningRateScheduler((_epoch, lr) => lr / 2),
        toArray(),
      ),
    );
    const lr = loggedRates(events);
    close(lr[0], 0.015);
    close(lr[1], 0.0075);
    // Keras keeps rates in float32: the stored rate is float32.
    assert.equal(lr[1], Math.fround(lr[1]!));
  });

  it('Keras test_updates_learning_rate: a constant schedule 0.5 over 1 epoch', async () => {
    const lr = loggedRates(
      await lastValueFrom(
        scriptedRun([{ loss: 1 }]).pipe(
          learningRateScheduler(() => 0.5),
          toArray(),
        ),
      ),
    );
    assert.deepEqual(lr, [0.5]);
  });

  it('receives absolute epochs when a run starts at initialEpoch', async () => {
    const seen: number[] = [];
    await lastValueFrom(
      scriptedRun([{ loss: 1 }, { loss: 1 }, { loss: 1 }], { initialEpoch: 1 }).pipe(
        learningRateScheduler((epoch, lr) => {
          seen.push(epoch);
          return lr;
        }),
      ),
    );
    assert.deepEqual(seen, [1, 2]);
  });

  for (const [label, value] of [
    ['NaN', Number.NaN],
    ['negative', -0.1],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '0.1'],
    ['a value beyond float32', 1e39],
  ] as const) {
    it(`a schedule that returns ${label} fails the run, naming the epoch and the value`, async () => {
      const { events, error } = await collect(
        scriptedRun([{ loss: 1 }, { loss: 1 }, { loss: 1 }]).pipe(
          learningRateScheduler((epoch) => (epoch === 1 ? (value as number) : 0.01)),
        ),
      );
      assert.ok(error instanceof Error);
      assert.match(
        error.message,
        /learningRateScheduler: the schedule returned .* at epoch 1; a learning rate must be a finite number >= 0/,
      );
      assert.ok(
        error.message.includes(typeof value === 'string' ? '"0.1" (string)' : String(value)),
        error.message,
      );
      assert.equal(
        events.filter((e) => e.type === 'batchBegin' && e.epoch === 1).length,
        0,
        'epoch 1 never trains',
      );
    });
  }

  it('a schedule that throws fails the run with the epoch in the message', async () => {
    const { error } = await collect(
      scriptedRun([{ loss: 1 }, { loss: 1 }]).pipe(
        learningRateScheduler((epoch) => {
          if (epoch === 1) throw new Error('boom');
          return 0.1;
        }),
      ),
    );
    assert.match(
      (error as Error).message,
      /learningRateScheduler: the schedule threw at epoch 1: boom/,
    );
  });

  it('does nothing on replayed events', async () => {
    const calls: number[] = [];
    const op = learningRateScheduler((epoch) => {
      calls.push(epoch);
      return 0.5;
    });
    const live = await lastValueFrom(scriptedRun([{ loss: 1 }, { loss: 1 }]).pipe(toArray()));
    const replayed = live.map((e) => Object.freeze({ ...e, replayed: true as const }));
    const out = await lastValueFrom(concat(from(replayed)).pipe(op, toArray()));
    assert.deepEqual(calls, []);
    assert.equal(out.length, replayed.length);
    out.forEach((e, i) => assert.equal(e, replayed[i], 'same object, unchanged'));
  });

  it('validates schedule when called', () => {
    assert.throws(
      () => learningRateScheduler(0.1 as unknown as () => number),
      /schedule must be a function/,
    );
  });
});

describe('with fit on a tiny model (cpu)', () => {
  async function tinyModel(lr: number) {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 1,
          inputShape: [2],
          kernelInitializer: 'ones',
          biasInitializer: 'zeros',
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(lr), loss: 'meanSquaredError' });
    const xs = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    const ys = tf.tensor2d([[1], [0], [1], [0]]);
    return { model, data: { xs, ys } };
  }

  const weightsOf = (model: tf.LayersModel) =>
    model.getWeights().flatMap((w) => Array.from(w.dataSync()));

  it("adam's learning rate really changes: lr 0 at epoch 1 freezes the weights, non-zero moves them", async () => {
    const { model, data } = await tinyModel(0.01);
    const after: number[][] = [];
    const before = weightsOf(model);
    const tensors: number[] = [];
    const events = await lastValueFrom(
      fit(model, data, { epochs: 3, batchSize: 2, shuffle: false }).pipe(
        learningRateScheduler((epoch) => (epoch === 1 ? 0 : 0.01)),
        tap((e) => {
          if (e.type === 'epochEnd') {
            after.push(weightsOf(model));
            tensors.push(tf.memory().numTensors);
          }
        }),
        toArray(),
      ),
    );
    assert.deepEqual(loggedRates(events), [0.01, 0, Math.fround(0.01)]);
    assert.notDeepEqual(after[0], before, 'epoch 0 (lr 0.01) moves the weights');
    assert.deepEqual(after[1], after[0], 'epoch 1 (lr 0) leaves them as they were');
    assert.notDeepEqual(after[2], after[1], 'epoch 2 (lr 0.01) moves them again');
    assert.equal(getLearningRate(model.optimizer), Math.fround(0.01));
    assert.deepEqual(
      tensors,
      [tensors[0], tensors[0], tensors[0]],
      'numTensors stays flat across epochs',
    );
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('Keras test_reduces_lr_with_model_fit with validation: Adam(0.1) → 0.01 after 2 epochs', async () => {
    const { model, data } = await tinyModel(0.1);
    await lastValueFrom(
      fit(model, data, { epochs: 2, batchSize: 2, validationSplit: 0.5 }).pipe(
        reduceLROnPlateau({ patience: 1, factor: 0.1, monitor: 'val_loss', minDelta: 100 }),
      ),
    );
    close(getLearningRate(model.optimizer), 0.01);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('a bad rate fails a real run with trainEnd failed, before the epoch trains', async () => {
    const { model, data } = await tinyModel(0.01);
    const events: TrainingEvent[] = [];
    await assert.rejects(
      lastValueFrom(
        fit(model, data, { epochs: 3, batchSize: 4 }).pipe(
          learningRateScheduler((epoch) => (epoch === 2 ? -1 : 0.01)),
          tap((e) => events.push(e)),
        ),
      ),
      /Training failed at epoch 2: learningRateScheduler: the schedule returned -1 at epoch 2/,
    );
    const end = events.at(-1);
    assert.equal(end?.type === 'trainEnd' && end.reason, 'failed');
    assert.equal(events.filter((e) => e.type === 'batchBegin' && e.epoch === 2).length, 0);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('a ready-made schedule drives a real optimizer', async () => {
    const { model, data } = await tinyModel(0.5);
    const events = await lastValueFrom(
      fit(model, data, { epochs: 3, batchSize: 4 }).pipe(
        learningRateScheduler(stepDecay({ initialLearningRate: 0.1, stepSize: 2, gamma: 0.5 })),
        toArray(),
      ),
    );
    const lr = loggedRates(events);
    [0.1, 0.1, 0.05].forEach((v, i) => close(lr[i], v));
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });
});
