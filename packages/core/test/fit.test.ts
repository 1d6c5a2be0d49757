import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray, take, tap, firstValueFrom, filter } from 'rxjs';
import { fit, controlOf, toHistory, callback, isEvent, TrainingError, DATA_SOURCE_EVENT, type RunControl, type TrainingEvent } from '@rxfit/core';
import { tinyData, tinyModel, weightsOf, maxDiff } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const kinds = (events: readonly TrainingEvent[]) => events.map((e) => e.type);

describe('fit', () => {
  it('emits Keras-ordered, frozen, numbered events for a 3-epoch run with validation', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(40);
    const events = await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 3, batchSize: 16, validationSplit: 0.25, runId: 'r1' }).pipe(toArray()),
    );
    const perEpoch = ['epochBegin', 'batchBegin', 'batchEnd', 'batchBegin', 'batchEnd', 'epochEnd'];
    assert.deepEqual(kinds(events), ['trainBegin', ...perEpoch, ...perEpoch, ...perEpoch, 'trainEnding', 'trainEnd']);
    events.forEach((e, i) => {
      assert.equal(e.seq, i);
      assert.equal(e.runId, 'r1');
      assert.ok(Object.isFrozen(e));
      if (e.type === 'trainBegin') assert.ok(Object.isFrozen(e.params) && Object.isFrozen(e.params.metrics));
      assert.equal(typeof e.time, 'number');
      // Plain data: JSON keeps every field (the control link is a symbol key, which JSON skips).
      assert.deepEqual(JSON.parse(JSON.stringify(e)), Object.fromEntries(Object.entries(e)));
    });
    const begin = events[0]!;
    assert.equal(begin.type, 'trainBegin');
    assert.deepEqual(begin.params, {
      epochs: 3,
      initialEpoch: 0,
      stepsPerEpoch: 2,
      samples: 30,
      batchSize: 16,
      metrics: ['loss', 'acc', 'val_loss', 'val_acc'],
      backend: 'cpu',
    });
    const batchEnds = events.filter(isEvent('batchEnd'));
    assert.deepEqual(
      batchEnds.map((e) => [e.epoch, e.batch, e.logs['size']]),
      [[0, 0, 16], [0, 1, 14], [1, 0, 16], [1, 1, 14], [2, 0, 16], [2, 1, 14]],
    );
    const epochEnds = events.filter(isEvent('epochEnd'));
    assert.deepEqual(epochEnds.map((e) => e.epoch), [0, 1, 2]);
    for (const e of epochEnds) {
      assert.deepEqual(Object.keys(e.logs).sort(), ['acc', 'loss', 'lr', 'val_acc', 'val_loss']);
      assert.equal(e.logs['lr'], 0.001);
    }
    // The epoch loss is the size-weighted mean of the batch losses, as Keras reports it.
    const [b0, b1] = batchEnds;
    const expected = (b0!.logs['loss']! * 16 + b1!.logs['loss']! * 14) / 30;
    assert.ok(Math.abs(epochEnds[0]!.logs['loss']! - expected) < 1e-6);
    const end = events.at(-1)!;
    assert.equal(end.type, 'trainEnd');
    assert.equal(end.reason, 'completed');
    assert.equal(end.epoch, 2);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('validation logs equal model.evaluate on the held-out samples', async () => {
    const model = tinyModel('sgd');
    const { xs, ys } = tinyData(20);
    const events = await lastValueFrom(fit(model, { xs, ys }, { epochs: 1, validationData: { xs, ys } }).pipe(toArray()));
    const end = events.find(isEvent('epochEnd'))!;
    const [loss, acc] = (model.evaluate(xs, ys) as tf.Scalar[]).map((s) => s.dataSync()[0]!);
    assert.ok(Math.abs(end.logs['val_loss']! - loss!) < 1e-5);
    assert.ok(Math.abs(end.logs['val_acc']! - acc!) < 1e-5);
    tf.dispose([xs, ys]);
  });

  it('keeps tf.memory().numTensors flat across epochs', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(64);
    const counts: number[] = [];
    await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 6, batchSize: 8, validationSplit: 0.25 }).pipe(
        filter(isEvent('epochEnd')),
        tap(() => counts.push(tf.memory().numTensors)),
        toArray(),
      ),
    );
    // Adam creates its moments at the first step; from the first epoch end on nothing grows.
    assert.equal(new Set(counts).size, 1, `numTensors per epoch: ${counts.join(', ')}`);
    const before = tf.memory().numTensors;
    await lastValueFrom(fit(model, { xs, ys }, { epochs: 2 }));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([xs, ys]);
  });

  it('stops after the current batch when an operator asks, ends the epoch, then trainEnd stopped', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(40);
    const events = await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 5, batchSize: 10 }).pipe(
        tap((e) => {
          if (e.type === 'batchEnd' && e.epoch === 1 && e.batch === 1) controlOf(e)!.stop('enough', { by: 'test' });
        }),
        toArray(),
      ),
    );
    const tail = events.slice(events.findIndex((e) => e.type === 'epochBegin' && e.epoch === 1));
    assert.deepEqual(kinds(tail), [
      'epochBegin', 'batchBegin', 'batchEnd', 'batchBegin', 'batchEnd', 'stopRequested', 'epochEnd', 'trainEnding', 'trainEnd',
    ]);
    const stop = tail[5]!;
    assert.equal(stop.type, 'stopRequested');
    assert.deepEqual([stop.epoch, stop.batch, stop.by, stop.reason], [1, 1, 'test', 'enough']);
    const end = tail.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'stopped');
    tf.dispose([xs, ys]);
  });

  it('records every command as an event and waits for deferred work before the next step', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    const order: string[] = [];
    const events = await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 2, batchSize: 8 }).pipe(
        tap((e) => {
          order.push(e.type);
          if (e.type === 'epochEnd' && e.epoch === 0) {
            const run = controlOf(e)!;
            run.emit('note', { hello: 1 });
            run.defer(new Promise((resolve) => setTimeout(resolve, 30)).then(() => order.push('deferred done')));
          }
        }),
        toArray(),
      ),
    );
    const custom = events.find(isEvent('custom'))!;
    assert.deepEqual([custom.name, custom.data, custom.epoch], ['note', { hello: 1 }, 0]);
    assert.deepEqual(order.slice(order.indexOf('epochEnd'), order.indexOf('epochEnd') + 4), [
      'epochEnd', 'custom', 'deferred done', 'epochBegin',
    ]);
    tf.dispose([xs, ys]);
  });

  it('controls carry over neither to replayed copies nor after the run', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    let live: RunControl | undefined;
    let replayedCopy: RunControl | undefined | 'unset' = 'unset';
    const events = await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 1 }).pipe(
        tap((e) => {
          if (e.type !== 'trainBegin') return;
          live = controlOf(e);
          replayedCopy = controlOf({ ...e, replayed: true });
        }),
        toArray(),
      ),
    );
    assert.ok(live, 'a live event delivered by the loop has its control');
    assert.equal(replayedCopy, undefined, 'a replayed copy has none');
    // After the run: no command can act any more; the control refuses deferred work.
    assert.throws(() => controlOf(events[0]!), /arrived after its run had ended/);
    assert.throws(() => live!.defer(Promise.resolve()), /has ended; work deferred now would not be awaited/);
    tf.dispose([xs, ys]);
  });

  it('cancels at the next batch boundary on unsubscribe and frees the model', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(64);
    const w0 = weightsOf(model);
    let steps = 0;
    await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 10, batchSize: 8 }).pipe(
        tap((e) => e.type === 'batchEnd' && steps++),
        filter(isEvent('batchEnd')),
        take(3),
      ),
    );
    const w1 = weightsOf(model);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(steps, 3);
    assert.equal(maxDiff(w1, weightsOf(model)), 0, 'no step runs after unsubscribe');
    assert.ok(maxDiff(w0, w1) > 0);
    // The model is free again.
    await lastValueFrom(fit(model, { xs, ys }, { epochs: 1 }));
    tf.dispose([xs, ys]);
  });

  it('cancels through an AbortSignal with the signal reason', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(64);
    const controller = new AbortController();
    const run$ = fit(model, { xs, ys }, { epochs: 10, batchSize: 8, signal: controller.signal }).pipe(
      tap((e) => e.type === 'batchEnd' && e.batch === 2 && controller.abort()),
    );
    await assert.rejects(lastValueFrom(run$), { name: 'AbortError' });
    await lastValueFrom(fit(model, { xs, ys }, { epochs: 1 }));
    tf.dispose([xs, ys]);
  });

  it('errors with the epoch and batch where a step failed, after a failed trainEnd', async () => {
    const model = tinyModel();
    const xs = tf.zeros([16, 5]);
    const ys = tf.zeros([16, 1]);
    const seen: TrainingEvent[] = [];
    const error = await lastValueFrom(fit(model, { xs, ys }, { epochs: 1, batchSize: 8 }).pipe(tap((e) => seen.push(e)))).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof TrainingError);
    assert.match(error.message, /^Training failed at epoch 0, batch 0: /);
    assert.equal(error.epoch, 0);
    const end = seen.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'failed');
    tf.dispose([xs, ys]);
  });

  it('fails a run whose deferred work rejects, naming the epoch', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    const run$ = fit(model, { xs, ys }, { epochs: 3 }).pipe(
      tap((e) => e.type === 'epochEnd' && e.epoch === 1 && controlOf(e)!.defer(Promise.reject(new Error('disk full')))),
    );
    await assert.rejects(lastValueFrom(run$), /Training failed at epoch 1: disk full/);
    tf.dispose([xs, ys]);
  });

  it('refuses a second concurrent run on the same model', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(32);
    const first = lastValueFrom(fit(model, { xs, ys }, { epochs: 2, batchSize: 4 }).pipe(toArray()));
    await assert.rejects(lastValueFrom(fit(model, { xs, ys })), /already training in run/);
    await first;
    tf.dispose([xs, ys]);
  });

  it('lets a new run start right after an operator error cancelled the previous one', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(64);
    const failing$ = fit(model, { xs, ys }, { epochs: 5, batchSize: 8 }).pipe(
      tap((e) => {
        if (e.type === 'batchEnd' && e.batch === 1) throw new Error('operator broke');
      }),
    );
    await assert.rejects(lastValueFrom(failing$), /operator broke/);
    const events = await lastValueFrom(fit(model, { xs, ys }, { epochs: 1, batchSize: 32 }).pipe(toArray()));
    assert.equal(events.at(-1)!.type, 'trainEnd');
    tf.dispose([xs, ys]);
  });

  it('lets timers run while it trains (an AbortSignal.timeout cancels a long run)', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(64);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const run$ = fit(model, { xs, ys }, { epochs: 100_000, batchSize: 8, signal: AbortSignal.timeout(300) });
    await assert.rejects(lastValueFrom(run$), { name: 'TimeoutError' });
    clearInterval(timer);
    assert.ok(ticks > 0, 'the interval ticked during training');
    assert.ok(performance.now() - started < 5000, 'the timeout cancelled the run');
    tf.dispose([xs, ys]);
  });

  it('rejects bad options when called, naming the option', () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    assert.throws(() => fit(model, { xs, ys }, { epochs: 0 }), /epochs must be an integer >= 1, got 0/);
    assert.throws(() => fit(model, { xs, ys }, { batchSize: 2.5 }), /batchSize/);
    assert.throws(() => fit(model, { xs, ys }, { validationSplit: 1 }), /validationSplit must be a finite number in \(0, 1\)/);
    assert.throws(() => fit(model, { xs, ys }, { epochs: 2, initialEpoch: 2 }), /initialEpoch \(2\) must be less than epochs/);
    const raw = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
    assert.throws(() => fit(raw, { xs, ys }), /not compiled/);
    tf.dispose([xs, ys]);
  });

  it('shuffles with a seed: the order depends on (seed, epoch) only', async () => {
    const xs = tf.range(0, 10).reshape([10, 1]);
    const ys = tf.zeros([10, 1]);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const seen: number[][] = [];
    const original = model.trainOnBatch.bind(model);
    model.trainOnBatch = async (x, y) => {
      seen.push(Array.from((x as tf.Tensor).dataSync()));
      return original(x, y);
    };
    await lastValueFrom(fit(model, { xs, ys }, { epochs: 2, batchSize: 10, seed: 3 }));
    await lastValueFrom(fit(model, { xs, ys }, { epochs: 2, initialEpoch: 1, batchSize: 10, seed: 3 }));
    assert.equal(seen.length, 3);
    assert.notDeepEqual(seen[0], seen[1]);
    assert.deepEqual(seen[2], seen[1], 'a resumed epoch 1 sees the same order');
    assert.deepEqual([...seen[0]!].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    tf.dispose([xs, ys]);
  });
});

describe('fit data sources', () => {
  it('trains on a BatchSource, emitting its description, and disposes every batch', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(12);
    const source = {
      batchesPerEpoch: 3,
      size: 12,
      description: 'Found 12 samples.',
      async *batches(epoch: number) {
        for (let b = 0; b < 3; b++) yield { xs: xs.slice(b * 4, 4), ys: ys.slice(b * 4, 4), epoch };
      },
    };
    const before = tf.memory().numTensors;
    const events = await lastValueFrom(fit(model, source, { epochs: 2, validationData: source }).pipe(toArray()));
    const described = events.filter(isEvent('custom')).filter((e) => e.name === DATA_SOURCE_EVENT);
    assert.deepEqual(described.map((e) => e.data), [
      { role: 'training', description: 'Found 12 samples.' },
      { role: 'validation', description: 'Found 12 samples.' },
    ]);
    assert.equal(events.filter(isEvent('batchEnd')).length, 6);
    assert.ok(events.find(isEvent('epochEnd'))!.logs['val_loss']! > 0);
    const afterFirstRun = tf.memory().numTensors; // Adam's state was created by the first step.
    await lastValueFrom(fit(model, source, { epochs: 2 }));
    assert.equal(tf.memory().numTensors, afterFirstRun);
    assert.ok(afterFirstRun >= before);
    tf.dispose([xs, ys]);
  });

  it('trains on a tf.data.Dataset and on a re-iterable async iterable, honouring stepsPerEpoch', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(20);
    const dataset = tf.data.zip({ xs: tf.data.array(tf.unstack(xs)), ys: tf.data.array(tf.unstack(ys)) }).batch(5);
    const h = await lastValueFrom(fit(model, dataset as never, { epochs: 2 }).pipe(toArray()));
    assert.equal(h.filter(isEvent('batchEnd')).length, 8);
    const iterable = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 4; i++) yield { xs: xs.slice(i * 5, 5), ys: ys.slice(i * 5, 5) };
      },
    };
    const limited = await lastValueFrom(fit(model, iterable, { epochs: 3, stepsPerEpoch: 3 }).pipe(toArray()));
    assert.deepEqual(
      limited.filter(isEvent('epochEnd')).map((e) => e.epoch),
      [0, 1, 2],
    );
    assert.equal(limited.filter(isEvent('batchEnd')).length, 9);
    tf.dispose([xs, ys]);
  });

  it('explains a one-shot generator that yields nothing in the second epoch', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    async function* once() {
      yield { xs: xs.clone(), ys: ys.clone() };
    }
    await assert.rejects(lastValueFrom(fit(model, once(), { epochs: 2 })), /epoch 1: .*iterated only once/);
    tf.dispose([xs, ys]);
  });
});

describe('toHistory and callback', () => {
  it('builds Keras History and runs the seed custom callback (stop when val_acc > 0.95 or loss < 0.1)', async () => {
    const model = tinyModel(tf.train.adam(0.05));
    const { xs, ys } = tinyData(32);
    const calls: string[] = [];
    const seedStop = callback({
      onTrainBegin: () => void calls.push('trainBegin'),
      onEpochEnd: async (epoch, logs, run) => {
        calls.push(`epochEnd ${epoch}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if ((logs['val_acc'] ?? 0) > 0.95 || (logs['loss'] ?? Infinity) < 0.1) {
          run.stop('val_acc > 0.95 or loss < 0.1', { by: 'seedStop' });
        }
      },
      onTrainEnd: () => void calls.push('trainEnd'),
    });
    // Train on the validation data too, so the condition is reached quickly.
    const history = await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 200, batchSize: 32, validationData: { xs, ys } }).pipe(seedStop, toHistory()),
    );
    const last = history.epoch.length - 1;
    assert.ok(last < 199, 'the custom callback stopped the run');
    assert.ok(history.history['val_acc']![last]! > 0.95 || history.history['loss']![last]! < 0.1);
    for (let i = 0; i < last; i++) {
      assert.ok(!(history.history['val_acc']![i]! > 0.95 || history.history['loss']![i]! < 0.1));
    }
    assert.deepEqual(history.epoch, [...Array(last + 1).keys()]);
    assert.equal(calls[0], 'trainBegin');
    assert.equal(calls.at(-1), 'trainEnd');
    assert.equal(history.params?.epochs, 200);
    tf.dispose([xs, ys]);
  });

  it('fails the run through the loop when a hook throws: trainEnd failed, error naming the epoch', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    const seen: TrainingEvent[] = [];
    const broken = callback({
      onEpochEnd: (epoch) => {
        if (epoch === 1) throw new Error('hook threw');
      },
    });
    const run$ = fit(model, { xs, ys }, { epochs: 3 }).pipe(broken, tap((e) => seen.push(e)));
    await assert.rejects(lastValueFrom(run$), /Training failed at epoch 1: hook threw/);
    assert.deepEqual(seen.slice(-2).map((e) => e.type), ['epochEnd', 'trainEnd']);
    const end = seen.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'failed');
    assert.equal(seen.filter((e) => e.type === 'trainEnd').length, 1);
    tf.dispose([xs, ys]);
  });

  it('emits one trainEnd when work deferred at trainEnd fails', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    const seen: TrainingEvent[] = [];
    const failsLate = callback({ onTrainEnd: () => Promise.reject(new Error('flush failed')) });
    await assert.rejects(lastValueFrom(fit(model, { xs, ys }).pipe(failsLate, tap((e) => seen.push(e)))), /flush failed/);
    assert.equal(seen.filter((e) => e.type === 'trainEnd').length, 1);
    tf.dispose([xs, ys]);
  });

  it('rejects a hook that is not a function', () => {
    assert.throws(() => callback({ onEpochEnd: 3 as never }), /onEpochEnd must be a function/);
  });

  it('fails the run when an async hook rejects', async () => {
    const model = tinyModel();
    const { xs, ys } = tinyData(8);
    const failing = callback({ onEpochEnd: async () => Promise.reject(new Error('hook broke')) });
    await assert.rejects(lastValueFrom(fit(model, { xs, ys }).pipe(failing)), /hook broke/);
    const first = await firstValueFrom(fit(model, { xs, ys }));
    assert.equal(first.type, 'trainBegin');
    tf.dispose([xs, ys]);
  });
});
