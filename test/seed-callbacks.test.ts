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
import { callback, fit, isEvent, type TrainingEvent } from '@rxfit/core';
import { earlyStopping } from '@rxfit/early-stopping';
import { loadCheckpoint, modelCheckpoint } from '@rxfit/checkpoint';
import { learningRateScheduler } from '@rxfit/scheduler';
import { csvLogger } from '@rxfit/csv-logger';
import { terminateOnNaN } from '@rxfit/terminate-on-nan';

const seedSchedule = (epoch: number) => (epoch < 10 ? 1e-3 : 1e-3 * Math.exp(0.1 * (10 - epoch)));

function model(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [6],
        units: 8,
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

let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'rxfit-seed-callbacks-'));
  for (const run of ['a', 'b', 'c']) await mkdir(path.join(dir, run));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the seed's callbacks in one pipe", () => {
  it('schedule, checkpoint and CSV do their job; the stop rules fire exactly where Keras says', async () => {
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
    if (ends.length > 12) {
      assert.ok(Math.abs(ends[11]!.logs['lr']! - 9.0484e-4) < 5e-9);
      assert.ok(Math.abs(ends[12]!.logs['lr']! - 8.1873e-4) < 5e-9);
    }

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

    // EarlyStopping(val_loss, patience 3) and the custom stop: the run ends where Keras' rules say.
    let bestLoss = Infinity;
    let wait = 0;
    let expectedStop: { epoch: number; by: string } | undefined;
    for (const e of ends) {
      const logs = e.logs;
      if (logs['val_acc']! > 0.95 || logs['loss']! < 0.1) {
        expectedStop = { epoch: e.epoch, by: 'customStop' };
        break;
      }
      wait++;
      if (logs['val_loss']! < bestLoss) {
        bestLoss = logs['val_loss']!;
        wait = 0;
      }
      if (wait >= 3 && e.epoch > 0) {
        expectedStop = { epoch: e.epoch, by: 'earlyStopping' };
        break;
      }
    }
    const stop = events.find(isEvent('stopRequested'));
    assert.deepEqual(stop && { epoch: stop.epoch, by: stop.by }, expectedStop);
    assert.equal(ends.at(-1)!.epoch, expectedStop?.epoch ?? 13);
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
