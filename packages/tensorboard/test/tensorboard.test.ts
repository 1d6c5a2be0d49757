import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, fit } from '@rxfit/core';
import { csvLogger } from '@rxfit/csv-logger';
import { eventLog, readEventLog } from '@rxfit/event-log';
import { tensorBoard } from '@rxfit/tensorboard';
import { pointsOf, readRunFolder, withFolder, referenceRun } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/tensorflow/', import.meta.url));

function parseCsv(text: string): Record<string, number>[] {
  const [header, ...rows] = text.trim().split('\r\n');
  const keys = header!.split(',');
  return rows.map((row) =>
    Object.fromEntries(row.split(',').map((cell, i) => [keys[i]!, Number(cell)])),
  );
}

/** Keras' reference layout: run folder → tag → plugin, dtype, shape. */
async function kerasLayout(): Promise<Record<string, Record<string, [string, string, number[]]>>> {
  const decoded = JSON.parse(await readFile(join(FIXTURES, 'decoded.json'), 'utf8')) as Record<
    string,
    Record<string, { plugin: string; dtype: string; shape: number[] }>
  >;
  const layout: Record<string, Record<string, [string, string, number[]]>> = {};
  for (const [file, tags] of Object.entries(decoded)) {
    const match = /^keras-callback\/(train|validation)\//.exec(file);
    if (!match) continue;
    layout[match[1]!] = Object.fromEntries(
      Object.entries(tags).map(([tag, t]) => [
        tag.replace(/^sequential\//, '<model>/'),
        [t.plugin, t.dtype, t.shape],
      ]),
    );
  }
  return layout;
}

describe('tensorBoard on a real fit run', () => {
  it("writes Keras' layout, tags, steps and the CSV log's values, as TensorFlow's reference run does", async () => {
    await withFolder(async (dir) => {
      const { model, xs, ys } = referenceRun();
      const logDir = join(dir, 'logs');
      const tensors: number[] = [];
      await lastValueFrom(
        fit(model, { xs, ys }, { epochs: 3, batchSize: 32, validationSplit: 0.25, seed: 1 }).pipe(
          csvLogger(join(dir, 'log.csv')),
          tensorBoard({ logDir, updateFreq: 2, histogramFreq: 1, provenance: false }),
          tap((event) => {
            // After the histograms of the epoch were read (the loop waited for them).
            if (event.type === 'epochBegin' || event.type === 'trainEnd') {
              controlOf(event)?.defer(
                Promise.resolve().then(() => tensors.push(tf.memory().numTensors)),
              );
            }
          }),
        ),
      );
      // Epoch 0 creates Adam's slots; from then on the count is flat (no tensor leaks), and the
      // run's own tensors (the validation split) are gone after it.
      assert.deepEqual(tensors.slice(1), new Array<number>(tensors.length - 1).fill(tensors[1]!));
      assert.ok(tf.memory().numTensors <= tensors[1]!);
      assert.deepEqual((await readdir(logDir)).sort(), ['train', 'validation']);
      const train = await readRunFolder(join(logDir, 'train'));
      const validation = await readRunFolder(join(logDir, 'validation'));

      // Same tags, plugins, dtypes and shapes as Keras' callback wrote (the model's name aside).
      const layout = await kerasLayout();
      const shape = (run: typeof train) =>
        Object.fromEntries(
          Object.entries(run).map(([tag, t]) => [
            tag.replace(`${model.name}/`, '<model>/'),
            [t.plugin, t.dtype, t.shape],
          ]),
        );
      assert.deepEqual(shape(train), layout['train']);
      assert.deepEqual(shape(validation), layout['validation']);

      // Steps: epochs, every second global batch (1-based), and the iterations at each evaluation.
      const points = pointsOf(train);
      assert.deepEqual(
        points['batch_loss']!.map(([step]) => step),
        [2, 4, 6, 8, 10, 12, 14, 16, 18],
      );
      assert.deepEqual(
        pointsOf(validation)['evaluation_loss_vs_iterations']!.map(([step]) => step),
        [6, 12, 18],
      );

      // Values: the CSV log's, as float32 (TensorFlow's scalar summaries are float32).
      const rows = parseCsv(await readFile(join(dir, 'log.csv'), 'utf8'));
      const f32 = (column: string) =>
        rows.map((row): [number, number] => [row['epoch']!, Math.fround(row[column]!)]);
      assert.deepEqual(points['epoch_loss'], f32('loss'));
      assert.deepEqual(points['epoch_acc'], f32('acc'));
      assert.deepEqual(points['epoch_learning_rate'], f32('lr'));
      const val = pointsOf(validation);
      assert.deepEqual(val['epoch_loss'], f32('val_loss'));
      assert.deepEqual(val['epoch_acc'], f32('val_acc'));
      assert.deepEqual(
        val['evaluation_acc_vs_iterations'],
        f32('val_acc').map(([epoch, value]) => [6 * (epoch + 1), value]),
      );

      // Histograms: one per weight and epoch, the model's current weights at that epoch's end.
      const kernel = train[`${model.name}/hidden/kernel/histogram`]!;
      assert.deepEqual(
        kernel.points.map((p) => p.step),
        [0, 1, 2],
      );
      const counts = (kernel.points[2]!.value as number[][]).reduce(
        (sum, bucket) => sum + bucket[2]!,
        0,
      );
      assert.equal(counts, 8 * 16);
      const weights = await model.layers[0]!.weights[0]!.read().data();
      const buckets = kernel.points[2]!.value as number[][];
      assert.equal(buckets[0]![0], Math.min(...weights));
      assert.equal(buckets.at(-1)![1], Math.max(...weights));
      tf.dispose([xs, ys]);
      model.dispose();
    });
  });

  it('flushes at each epoch end: the files are readable while the run goes on', async () => {
    await withFolder(async (dir) => {
      const { model, xs, ys } = referenceRun(2);
      const logDir = join(dir, 'logs');
      const seen: number[][] = [];
      await lastValueFrom(
        fit(model, { xs, ys }, { epochs: 3, batchSize: 64, validationSplit: 0.25 }).pipe(
          tensorBoard({ logDir, updateFreq: 'batch' }),
          tap((event) => {
            if (event.type !== 'epochBegin' || event.epoch === 0) return;
            controlOf(event)?.defer(
              readRunFolder(join(logDir, 'train')).then((run) => {
                seen.push(run['epoch_loss']!.points.map((p) => p.step));
              }),
            );
          }),
        ),
      );
      assert.deepEqual(seen, [[0], [0, 1]]);
      const train = pointsOf(await readRunFolder(join(logDir, 'train')));
      assert.deepEqual(
        train['batch_loss']!.map(([step]) => step),
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      tf.dispose([xs, ys]);
      model.dispose();
    });
  });

  it('converts a replayed log (readEventLog) to the same scalars as the live run, without histograms', async () => {
    await withFolder(async (dir) => {
      const { model, xs, ys } = referenceRun(3);
      const logPath = join(dir, 'events.jsonl');
      await lastValueFrom(
        fit(model, { xs, ys }, { epochs: 2, batchSize: 32, validationSplit: 0.25 }).pipe(
          tensorBoard({ logDir: join(dir, 'live'), updateFreq: 3, histogramFreq: 1 }),
          eventLog(logPath),
        ),
      );
      await lastValueFrom(
        readEventLog(logPath).pipe(
          tensorBoard({ logDir: join(dir, 'replayed'), updateFreq: 3, histogramFreq: 1 }),
        ),
      );
      for (const folder of ['train', 'validation']) {
        const live = pointsOf(await readRunFolder(join(dir, 'live', folder)));
        const replayed = pointsOf(await readRunFolder(join(dir, 'replayed', folder)));
        const withoutHistograms = Object.fromEntries(
          Object.entries(live).filter(([tag]) => !tag.endsWith('/histogram')),
        );
        assert.ok(
          Object.keys(live).length > Object.keys(withoutHistograms).length ||
            folder === 'validation',
        );
        assert.deepEqual(replayed, withoutHistograms, folder);
      }
      tf.dispose([xs, ys]);
      model.dispose();
    });
  });
});

describe('tensorBoard options', () => {
  it('fails at the call, naming the option and the value', () => {
    assert.throws(
      () => tensorBoard({ logDir: '' }),
      /tensorBoard: logDir must be a non-empty path, got ""/,
    );
    assert.throws(
      () => tensorBoard({ logDir: 'x', updateFreq: 0 }),
      /tensorBoard: updateFreq must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => tensorBoard({ logDir: 'x', updateFreq: 'batches' as 'batch' }),
      /updateFreq must be one of 'epoch', 'batch', got "batches"/,
    );
    assert.throws(
      () => tensorBoard({ logDir: 'x', histogramFreq: -1 }),
      /histogramFreq must be an integer >= 0, got -1/,
    );
    assert.throws(
      () => tensorBoard({ logDir: 'x', hparams: { lr: NaN } }),
      /hparams.lr must be a finite number/,
    );
    assert.throws(
      () => tensorBoard({ logDir: 'x', histogram_freq: 1 } as unknown as { logDir: string }),
      /tensorBoard: unknown option 'histogram_freq'.*did you mean 'histogramFreq'/,
    );
  });

  it('an unwritable logDir fails the run when it begins, naming the folder', async () => {
    await withFolder(async (dir) => {
      const { model, xs, ys } = referenceRun(4);
      const blocker = join(dir, 'file');
      await writeFile(blocker, '');
      const events = fit(model, { xs, ys }, { epochs: 1 }).pipe(
        tensorBoard({ logDir: join(blocker, 'logs') }),
        toArray(),
      );
      await assert.rejects(
        lastValueFrom(events),
        /tensorBoard: cannot create '.*file\/logs\/train'/,
      );
      tf.dispose([xs, ys]);
      model.dispose();
    });
  });
});
