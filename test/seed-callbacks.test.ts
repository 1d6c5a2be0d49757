/**
 * The seed script's six callbacks composed in one pipe on a real (tiny) run: each does its job.
 * Expectations are computed from the run's own logs with Keras' rules written out here.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { callback, fit, isEvent, type EventOfType, type TrainingEvent } from '@rxfit/core';
import { earlyStopping } from '@rxfit/early-stopping';
import { loadCheckpoint, modelCheckpoint } from '@rxfit/checkpoint';
import { learningRateScheduler } from '@rxfit/scheduler';
import { csvLogger } from '@rxfit/csv-logger';
import { terminateOnNaN } from '@rxfit/terminate-on-nan';

const seedSchedule = (epoch: number) => (epoch < 10 ? 1e-3 : 1e-3 * Math.exp(0.1 * (10 - epoch)));

function model(units = 8): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [6],
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return m;
}

function seedPipe(
  dir: string,
  epochs: number,
  data: { xs: tf.Tensor; ys: tf.Tensor },
  m: tf.LayersModel,
) {
  const customStop = callback({
    onEpochEnd: (_epoch, logs, run) => {
      if ((logs['val_acc'] ?? 0) > 0.95 || (logs['loss'] ?? Infinity) < 0.1)
        run.stop('val_acc > 0.95 or loss < 0.1', { by: 'customStop' });
    },
  });
  return fit(m, data, { epochs, batchSize: 16, validationSplit: 0.25, seed: 3 }).pipe(
    customStop,
    earlyStopping({ monitor: 'val_loss', patience: 3 }),
    modelCheckpoint({ filepath: path.join(dir, 'best'), monitor: 'val_acc', saveBestOnly: true }),
    csvLogger(path.join(dir, 'logfile.csv')),
    terminateOnNaN(),
    learningRateScheduler(seedSchedule),
    toArray(),
  );
}

/** Where Keras' rules stop a run: the custom condition first, then EarlyStopping(val_loss, patience 3). */
function expectedStop(
  ends: readonly EventOfType<'epochEnd'>[],
): { epoch: number; by: string } | undefined {
  let bestLoss = Infinity;
  let wait = 0;
  for (const { epoch, logs } of ends) {
    if (logs['val_acc']! > 0.95 || logs['loss']! < 0.1) return { epoch, by: 'customStop' };
    wait++;
    if (logs['val_loss']! < bestLoss) {
      bestLoss = logs['val_loss']!;
      wait = 0;
    }
    if (wait >= 3 && epoch > 0) return { epoch, by: 'earlyStopping' };
  }
  return undefined;
}

let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'rxfit-seed-callbacks-'));
  for (const run of ['a', 'b', 'c', 'd']) await mkdir(path.join(dir, run));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the seed's callbacks in one pipe", () => {
  it('schedule, checkpoint and CSV do their job on a run no stop rule ends', async () => {
    const xs = tf.randomNormal([160, 6], 0, 1, 'float32', 5);
    // A hard, noisy task: no callback stops it before epoch 13, so the schedule is visible.
    const ys = tf.randomUniform([160, 1], 0, 1, 'float32', 6).round();
    const m = model();
    const events: TrainingEvent[] = await lastValueFrom(
      seedPipe(path.join(dir, 'a'), 14, { xs, ys }, m),
    );
    const ends = events.filter(isEvent('epochEnd'));

    // LearningRateScheduler: the rate in force during each epoch, as the seed's log shows it.
    ends.forEach((e) =>
      assert.ok(
        Math.abs(e.logs['lr']! - Math.fround(seedSchedule(e.epoch))) < 1e-9,
        `lr at ${e.epoch}`,
      ),
    );
    assert.ok(Math.abs(ends[11]!.logs['lr']! - 9.0484e-4) < 5e-9);
    assert.ok(Math.abs(ends[12]!.logs['lr']! - 8.1873e-4) < 5e-9);

    // ModelCheckpoint(save_best_only): a save exactly when val_acc beat every earlier epoch.
    let best = -Infinity;
    const improved = ends
      .filter((e) => (e.logs['val_acc']! > best ? ((best = e.logs['val_acc']!), true) : false))
      .map((e) => e.epoch);
    assert.deepEqual(
      events.filter(isEvent('checkpointSaved')).map((e) => e.epoch),
      improved,
    );
    const restored = await loadCheckpoint(path.join(dir, 'a', 'best'));
    assert.equal(restored.layers.length, 2);
    restored.dispose();

    // CSVLogger: one row per epoch, Keras' columns.
    const rows = (await readFile(path.join(dir, 'a', 'logfile.csv'), 'utf8')).trim().split(/\r?\n/);
    assert.equal(rows[0], 'epoch,acc,loss,lr,val_acc,val_loss');
    assert.equal(rows.length, 1 + ends.length);

    // No stop rule holds on this slow task: all 14 epochs run, so the schedule shows.
    assert.equal(expectedStop(ends), undefined);
    assert.equal(ends.length, 14);
    assert.equal(events.find(isEvent('stopRequested')), undefined);
    tf.dispose([xs, ys]);
    m.dispose();
  });

  it("EarlyStopping ends an overfitting run at the epoch Keras' rule gives", async () => {
    // Random labels and a wide layer: the training loss falls while val_loss rises.
    const xs = tf.randomNormal([400, 6], 0, 1, 'float32', 9);
    const ys = tf.randomUniform([400, 1], 0, 1, 'float32', 10).round();
    const m = model(256);
    const events = await lastValueFrom(seedPipe(path.join(dir, 'd'), 50, { xs, ys }, m));
    const ends = events.filter(isEvent('epochEnd'));
    const expected = expectedStop(ends);
    assert.equal(expected?.by, 'earlyStopping');
    const stop = events.find(isEvent('stopRequested'));
    assert.deepEqual(stop && { epoch: stop.epoch, by: stop.by }, expected);
    assert.equal(ends.at(-1)!.epoch, expected.epoch);
    tf.dispose([xs, ys]);
    m.dispose();
  });

  it('the custom stop ends an easy run', async () => {
    const xs = tf.randomNormal([1600, 6], 0, 1, 'float32', 7);
    const ys = xs.slice([0, 0], [1600, 1]).greater(0).toFloat();
    const m = model();
    const easy = await lastValueFrom(seedPipe(path.join(dir, 'b'), 50, { xs, ys }, m));
    const stop = easy.find(isEvent('stopRequested'));
    assert.equal(stop?.by, 'customStop');
    const ends = easy.filter(isEvent('epochEnd'));
    const last = ends.at(-1)!;
    assert.ok(last.logs['val_acc']! > 0.95 || last.logs['loss']! < 0.1);
    assert.ok(
      ends.slice(0, -1).every((e) => !(e.logs['val_acc']! > 0.95 || e.logs['loss']! < 0.1)),
    );
    tf.dispose([xs, ys]);
    m.dispose();
  });

  it('TerminateOnNaN stops a run whose loss is NaN at that batch', async () => {
    const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 8);
    const ys = tf.fill([64, 1], Number.NaN);
    const m = model();
    const events = await lastValueFrom(seedPipe(path.join(dir, 'c'), 5, { xs, ys }, m));
    const stop = events.find(isEvent('stopRequested'));
    assert.deepEqual(stop && [stop.by, stop.epoch, stop.batch], ['terminateOnNaN', 0, 0]);
    const end = events.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'stopped');
    tf.dispose([xs, ys]);
    m.dispose();
  });
});
