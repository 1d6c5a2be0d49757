import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  concat,
  from,
  lastValueFrom,
  tap,
  toArray,
  type MonoTypeOperatorFunction,
  type Observable,
} from 'rxjs';
import { fit, warningOf, type Logs, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { fileSystem, loadCheckpoint, loadWeights, modelCheckpoint } from '@rxfit/checkpoint';
import {
  crashingFileSystem,
  predictions,
  release,
  tempDir,
  tinyData,
  tinyModel,
  weightsOf,
} from './helpers.js';

const run = (
  source$: Observable<TrainingEvent>,
  op: MonoTypeOperatorFunction<TrainingEvent>,
): Promise<TrainingEvent[]> => lastValueFrom(source$.pipe(op, toArray()));

const saved = (events: readonly TrainingEvent[]) =>
  events.flatMap((e) =>
    e.type === 'checkpointSaved' ? [{ epoch: e.epoch, path: e.path, value: e.value }] : [],
  );

describe('modelCheckpoint: options', () => {
  it('rejects bad options when called, naming the option and the value', () => {
    const f = 'ckpt/{epoch}';
    assert.throws(() => modelCheckpoint({ filepath: '' }), /filepath must be a non-empty string/);
    assert.throws(
      () => modelCheckpoint({ filepath: 'ckpt/{epoch' }),
      /modelCheckpoint: filepath "ckpt\/\{epoch"/,
    );
    assert.throws(
      () => modelCheckpoint({ filepath: f, mode: 'unknown' as 'min' }),
      /mode must be one of 'auto', 'min', 'max', got "unknown"/,
    );
    // Keras case 9: save_freq='invalid_save_freq' → ValueError "Unrecognized save_freq".
    assert.throws(
      () => modelCheckpoint({ filepath: f, saveFreq: 'invalid_save_freq' as 'epoch' }),
      /saveFreq must be 'epoch' or an integer >= 1/,
    );
    assert.throws(() => modelCheckpoint({ filepath: f, saveFreq: 0 }), /saveFreq .* got 0/);
    assert.throws(
      () => modelCheckpoint({ filepath: f, saveBestOnly: 'yes' as unknown as boolean }),
      /saveBestOnly must be a boolean/,
    );
    assert.throws(
      () => modelCheckpoint({ filepath: f, initialValueThreshold: NaN }),
      /initialValueThreshold must be a finite number/,
    );
    // save_best_only, Keras' spelling, was silently ignored once: now it is an error.
    assert.throws(
      () => modelCheckpoint({ filepath: f, save_best_only: true } as never),
      /modelCheckpoint: unknown option 'save_best_only': rxfit options are camelCase, did you mean 'saveBestOnly'/,
    );
    modelCheckpoint({
      filepath: f,
      monitor: 'my_score',
      mode: 'max',
      saveFreq: 3,
      saveWeightsOnly: true,
    });
  });
});

describe('modelCheckpoint: Keras scenarios (scriptedRun with a tiny model)', () => {
  it('cases 1-4: saves every epoch, or with saveBestOnly the first epoch (min, max, auto)', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const logs: Logs[] = [{ loss: 1, val_loss: 0.9, val_acc: 0.5 }];
    for (const [i, options] of [
      { monitor: 'val_loss', mode: 'auto' as const },
      { monitor: 'val_loss', mode: 'min' as const },
      { monitor: 'val_acc', mode: 'max' as const },
      { monitor: 'val_acc', mode: 'max' as const, saveBestOnly: true },
    ].entries()) {
      const filepath = join(dir, `case${i + 1}`, 'checkpoint');
      await run(scriptedRun(logs, { model }), modelCheckpoint({ filepath, ...options }));
      assert.ok(existsSync(join(filepath, 'model.json')), `case ${i + 1}`);
    }
    release(model);
  });

  it('saveBestOnly saves only on improvement; checkpointSaved follows each save with path, monitor, value', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const events = await run(
      scriptedRun(
        [{ val_loss: 10 }, { val_loss: 9 }, { val_loss: 9.5 }, { val_loss: 8 }, { val_loss: 8 }],
        { model },
      ),
      modelCheckpoint({
        filepath: join(dir, 'ckpt-{epoch:02d}-{val_loss:.1f}'),
        saveBestOnly: true,
      }),
    );
    assert.deepEqual(await readdir(dir), ['ckpt-01-10.0', 'ckpt-02-9.0', 'ckpt-04-8.0']);
    assert.deepEqual(saved(events), [
      { epoch: 0, path: join(dir, 'ckpt-01-10.0'), value: 10 },
      { epoch: 1, path: join(dir, 'ckpt-02-9.0'), value: 9 },
      { epoch: 3, path: join(dir, 'ckpt-04-8.0'), value: 8 },
    ]);
    const checkpointEvent = events.find((e) => e.type === 'checkpointSaved');
    assert.equal(
      checkpointEvent?.type === 'checkpointSaved' && checkpointEvent.monitor,
      'val_loss',
    );
    // Each checkpointSaved comes right after its epochEnd, before the next epoch begins.
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(types.indexOf('epochEnd'), types.indexOf('epochEnd') + 3), [
      'epochEnd',
      'checkpointSaved',
      'epochBegin',
    ]);
    release(model);
  });

  it('a path without placeholders is overwritten by each new best', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const filepath = join(dir, 'best');
    const events = await run(
      scriptedRun([{ val_acc: 0.5 }, { val_acc: 0.7 }, { val_acc: 0.6 }], { model }),
      modelCheckpoint({ filepath, monitor: 'val_acc', saveBestOnly: true }),
    );
    assert.deepEqual(
      saved(events).map((s) => s.value),
      [0.5, 0.7],
    );
    assert.deepEqual(await readdir(dir), ['best']);
    release(model);
  });

  it('saveBestOnly with a monitor the run does not log fails at trainBegin, saving nothing', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    await assert.rejects(
      run(
        scriptedRun([{ acc: 0.5, val_acc: 0.5 }], { model }),
        modelCheckpoint({ filepath: join(dir, 'ckpt{epoch}'), monitor: 'val_accuracy', saveBestOnly: true }),
      ),
      /modelCheckpoint: monitor 'val_accuracy' is not logged by this run\. 'val_accuracy' is Keras' name; tfjs logs it as 'val_acc'/,
    );
    assert.deepEqual(await readdir(dir), []);
    release(model);
  });

  it("case 5: missingMonitor 'warn': a missing monitor with saveBestOnly warns once and saves anyway", async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const events = await run(
      scriptedRun([{ loss: 1 }, { loss: 0.5 }], { model }),
      modelCheckpoint({
        filepath: join(dir, 'ckpt{epoch}'),
        monitor: 'unknown',
        mode: 'min',
        missingMonitor: 'warn',
        saveBestOnly: true,
      }),
    );
    const warnings = events.flatMap((e) => warningOf(e) ?? []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.by, 'modelCheckpoint');
    assert.match(
      warnings[0]?.message ?? '',
      /Can save best model only with unknown available \(available: loss, lr\)/,
    );
    assert.deepEqual(await readdir(dir), ['ckpt1', 'ckpt2']);
    release(model);
  });

  it('cases 11-14: initialValueThreshold', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const logs: Logs[] = [{ loss: 1, val_loss: 0.4, val_acc: 0 }];
    const cases = [
      {
        name: 'case11',
        monitor: 'val_acc',
        mode: 'max' as const,
        initialValueThreshold: -0.01,
        expect: true,
      },
      { name: 'case12', monitor: 'val_loss', mode: 'auto' as const, expect: true },
      {
        name: 'case13',
        monitor: 'val_loss',
        mode: 'min' as const,
        initialValueThreshold: 0,
        expect: false,
      },
      {
        name: 'case14',
        monitor: 'val_loss',
        mode: 'auto' as const,
        initialValueThreshold: 0,
        expect: false,
      },
    ];
    for (const { name, expect, ...options } of cases) {
      const filepath = join(dir, name);
      await run(
        scriptedRun(logs, { model }),
        modelCheckpoint({ filepath, saveBestOnly: true, ...options }),
      );
      assert.equal(existsSync(filepath), expect, name);
    }
    release(model);
  });

  it('replayed events update the best value and the batch count, and save nothing', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const recorded = await lastValueFrom(
      scriptedRun([{ val_loss: 5 }, { val_loss: 3 }, { val_loss: 4 }]).pipe(toArray()),
    );
    const replayed = recorded.map((e) => Object.freeze({ ...e, replayed: true as const }));
    const live = scriptedRun(
      [{ val_loss: 5 }, { val_loss: 3 }, { val_loss: 4 }, { val_loss: 3.5 }, { val_loss: 2 }],
      {
        model,
        initialEpoch: 3,
      },
    );
    const events = await lastValueFrom(
      concat(from(replayed), live).pipe(
        modelCheckpoint({ filepath: join(dir, 'e{epoch}'), saveBestOnly: true }),
        toArray(),
      ),
    );
    // 3.5 at epoch 3 does not beat the replayed best 3; 2 at epoch 4 does.
    assert.deepEqual(await readdir(dir), ['e5']);
    assert.deepEqual(
      saved(events).map((s) => s.epoch),
      [4],
    );
    release(model);
  });

  it('a filepath key the run will not log fails the run at trainBegin, naming the key and the logs', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const seen: string[] = [];
    await assert.rejects(
      run(
        scriptedRun([{ loss: 1, val_loss: 1 }], { model }).pipe(tap((e) => seen.push(e.type))),
        // Keras formats the path before deciding, so this fails even when nothing would be saved.
        modelCheckpoint({
          filepath: join(dir, 'ckpt-{val_acc:.2f}'),
          saveBestOnly: true,
          initialValueThreshold: 0,
        }),
      ),
      /modelCheckpoint: filepath ".*ckpt-\{val_acc:\.2f\}" field 'val_acc' is not logged by this run\. The run logs: loss, val_loss, lr, epoch\./,
    );
    assert.deepEqual(seen, ['trainBegin', 'trainEnd'], 'before any epoch');
    assert.deepEqual(await readdir(dir), []);
    release(model);
  });

  it('a run without a model fails clearly', async () => {
    await assert.rejects(
      run(scriptedRun([{ val_loss: 1 }]), modelCheckpoint({ filepath: 'unused' })),
      /this run has no model to save/,
    );
  });

  it('one operator serves two runs, each with its own best value', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const op = modelCheckpoint({ filepath: join(dir, 'best'), saveBestOnly: true });
    const first = await run(scriptedRun([{ val_loss: 1 }, { val_loss: 2 }], { model }), op);
    const second = await run(scriptedRun([{ val_loss: 3 }], { model }), op);
    assert.deepEqual(
      saved(first).map((s) => s.value),
      [1],
    );
    assert.deepEqual(
      saved(second).map((s) => s.value),
      [3],
    );
    release(model);
  });
});

describe('modelCheckpoint: with fit', () => {
  it('saves the weights of each epoch end (the save finishes before the next step), loadable two ways', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const data = tinyData(12);
    const atEpochEnd: number[][][] = [];
    const outputs: number[][] = [];
    const events = await lastValueFrom(
      fit(model, data, { epochs: 3, batchSize: 4, shuffle: false }).pipe(
        modelCheckpoint({ filepath: join(dir, 'epoch{epoch}'), monitor: 'loss' }),
        tap((e) => {
          if (e.type === 'epochEnd') {
            atEpochEnd.push(weightsOf(model));
            outputs.push(predictions(model));
          }
        }),
        toArray(),
      ),
    );
    assert.equal(saved(events).length, 3);
    assert.notDeepEqual(
      atEpochEnd[0],
      atEpochEnd[1],
      'training changes the weights between epochs',
    );
    for (let epoch = 0; epoch < 3; epoch++) {
      const path = join(dir, `epoch${epoch + 1}`);
      const loaded = await loadCheckpoint(path);
      assert.deepEqual(weightsOf(loaded), atEpochEnd[epoch], `epoch ${epoch + 1}`);
      assert.deepEqual(predictions(loaded), outputs[epoch]);
      assert.equal(loaded.optimizer.iterations, 3 * (epoch + 1), 'three steps per epoch');
      const viaTf = await tf.loadLayersModel(fileSystem(path));
      assert.deepEqual(predictions(viaTf), outputs[epoch]);
      release(loaded, viaTf);
    }
    release(model, data.xs, data.ys);
  });

  it('case 8a: saveFreq 15 with 5 batches per epoch saves at epochs 3, 6 and 9', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const data = tinyData(30);
    await lastValueFrom(
      fit(model, data, { epochs: 10, batchSize: 6 }).pipe(
        modelCheckpoint({ filepath: join(dir, 'checkpoint.epoch{epoch:02d}'), saveFreq: 15 }),
        toArray(),
      ),
    );
    assert.deepEqual((await readdir(dir)).sort(), [
      'checkpoint.epoch03',
      'checkpoint.epoch06',
      'checkpoint.epoch09',
    ]);
    release(model, data.xs, data.ys);
  });

  it('case 10b: saveFreq 1 with {batch} in the path, weights only, loadable with loadWeights', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const data = tinyData(30);
    const events = await lastValueFrom(
      fit(model, data, { epochs: 2, batchSize: 15 }).pipe(
        modelCheckpoint({
          filepath: join(dir, 'checkpoint.epoch{epoch:02d}batch{batch:02d}'),
          saveFreq: 1,
          saveWeightsOnly: true,
        }),
        toArray(),
      ),
    );
    const names = ['epoch01batch01', 'epoch01batch02', 'epoch02batch01', 'epoch02batch02'].map(
      (n) => `checkpoint.${n}`,
    );
    assert.deepEqual((await readdir(dir)).sort(), names);
    await assert.rejects(loadCheckpoint(join(dir, names[3]!)), /holds weights only/);
    const target = tinyModel();
    await loadWeights(target, join(dir, names[3]!));
    assert.deepEqual(predictions(target), predictions(model));
    assert.equal(target.optimizer.iterations, 4);
    assert.equal(saved(events).length, 4);
    release(model, target, data.xs, data.ys);
  });

  it('leaks no tensor across a run that saves at every batch', async () => {
    const dir = await tempDir();
    const model = tinyModel(tf.train.sgd(0.1));
    const data = tinyData(8);
    const runOnce = (name: string) =>
      lastValueFrom(
        fit(model, data, { epochs: 2, batchSize: 4 }).pipe(
          modelCheckpoint({ filepath: join(dir, name), saveFreq: 1 }),
          toArray(),
        ),
      );
    await runOnce('warm-up');
    const before = tf.memory().numTensors;
    await runOnce('measured-{epoch}-{batch}');
    assert.equal(tf.memory().numTensors, before);
    assert.equal((await readdir(dir)).length, 5);
    release(model, data.xs, data.ys);
  });

  it('a failed save fails the run (trainEnd failed) and keeps the previous checkpoint', async () => {
    const dir = await tempDir();
    const model = tinyModel();
    const data = tinyData(8);
    const filepath = join(dir, 'best');
    await lastValueFrom(
      fit(model, data, { epochs: 1 }).pipe(
        modelCheckpoint({ filepath, monitor: 'loss' }),
        toArray(),
      ),
    );
    const before = predictions(await loadCheckpoint(filepath));
    const events: TrainingEvent[] = [];
    await assert.rejects(
      lastValueFrom(
        fit(model, data, { epochs: 2 }).pipe(
          modelCheckpoint({ filepath, monitor: 'loss', fileSystem: crashingFileSystem(7) }),
          tap((e) => events.push(e)),
        ),
      ),
      /^TrainingError: Training failed at epoch 0: modelCheckpoint: saving checkpoint .*best: simulated crash at remove \(call 7\)$/,
    );
    const end = events.at(-1);
    assert.equal(end?.type === 'trainEnd' && end.reason, 'failed');
    assert.deepEqual(predictions(await loadCheckpoint(filepath)), before);
    release(model, data.xs, data.ys);
  });
});
