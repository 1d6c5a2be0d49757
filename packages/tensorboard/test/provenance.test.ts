import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { concat, from, lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { EventMessage, HParamsPluginDataMessage } from '../src/proto.js';
import { readEventFile, readRecords, tensorBoard } from '@rxfit/tensorboard';
import { pointsOf, readRunFolder, withFolder } from './helpers.js';

const losses = [
  { loss: 1, val_loss: 2 },
  { loss: 0.5, val_loss: 1.5 },
  { loss: 0.4, val_loss: 1.6 },
  { loss: 0.3, val_loss: 1.7 },
];

/** A run in which callbacks act: a learning-rate change, a checkpoint, a warning and a stop. */
function actingRun(runId = 'acting') {
  return scriptedRun(losses, { batchesPerEpoch: 2, runId }).pipe(
    tap((event) => {
      const control = controlOf(event);
      if (!control) return;
      if (event.type === 'epochBegin' && event.epoch === 1)
        control.setLearningRate(0.0005, { by: 'scheduler' });
      if (event.type === 'epochEnd' && event.epoch === 1) {
        control.checkpointSaved({ path: 'runs/x/best.json', monitor: 'val_loss', value: 1.5 });
        control.warn('something to know', { by: 'plotHistory' });
      }
      if (event.type === 'epochEnd' && event.epoch === 2) {
        control.stop('val_loss did not improve for 1 epoch', {
          by: 'earlyStopping',
          details: { best: 1.5 },
        });
      }
    }),
  );
}

describe('provenance as text summaries', () => {
  it('says who stopped the run and why, who changed the learning rate, which checkpoints were saved', async () => {
    await withFolder(async (dir) => {
      await lastValueFrom(actingRun().pipe(tensorBoard({ logDir: dir })));
      const train = await readRunFolder(join(dir, 'train'));
      const texts = Object.fromEntries(
        Object.entries(train)
          .filter(([, t]) => t.plugin === 'text')
          .map(([tag, t]) => [tag, t.points.map((p) => [p.step, (p.value as string[])[0]])]),
      );
      assert.deepEqual(texts, {
        'rxfit/run': [
          [0, 'Run `acting` began: epochs 0 to 3, 2 steps per epoch, batch size 1, backend `scripted`, logs `loss`, `val_loss`.'],
          [2, 'Run `acting` ended at epoch 2: **stopped**.'],
        ],
        'rxfit/learning_rate': [
          [1, '**scheduler** changed the learning rate from 0.001 to 0.0005 at epoch 1.'],
        ],
        'rxfit/checkpoints': [[1, 'Saved `runs/x/best.json` at epoch 1 (val_loss = 1.5).']],
        'rxfit/warnings': [[1, '**plotHistory**: something to know']],
        'rxfit/stop_reason': [
          [
            2,
            '**earlyStopping** stopped the run at epoch 2: val_loss did not improve for 1 epoch\n\n`{"best":1.5}`',
          ],
        ],
      });
      for (const tag of Object.keys(texts)) {
        assert.equal(train[tag]!.dtype, 'string');
        assert.deepEqual(train[tag]!.shape, []);
      }
      assert.deepEqual(pointsOf(train)['epoch_learning_rate'], [
        [0, Math.fround(0.001)],
        [1, Math.fround(0.0005)],
        [2, Math.fround(0.0005)],
      ]);
    });
  });

  it('provenance: false writes scalars only', async () => {
    await withFolder(async (dir) => {
      await lastValueFrom(actingRun().pipe(tensorBoard({ logDir: dir, provenance: false })));
      const train = await readRunFolder(join(dir, 'train'));
      assert.deepEqual(Object.keys(train).sort(), ['epoch_learning_rate', 'epoch_loss']);
    });
  });
});

describe('file failures', () => {
  it('a failed write fails the run at the epoch end, naming the file, and later work does not hide it', async () => {
    await withFolder(async (dir) => {
      const fileSystem = {
        mkdir: async () => undefined,
        openAppend: async () => {
          throw new Error('no space left on the device');
        },
      };
      const run = scriptedRun(losses).pipe(tensorBoard({ logDir: dir, fileSystem }), toArray());
      await assert.rejects(
        lastValueFrom(run),
        /tensorBoard: cannot write '.*train\/events\.out\.tfevents\.[^']+\.v2': no space left on the device/,
      );
    });
  });
});

describe('file failures: handles', () => {
  it('a write that fails after the file opened still closes the file', async () => {
    await withFolder(async (dir) => {
      let opened = 0;
      let closed = 0;
      const fileSystem = {
        mkdir: async () => undefined,
        openAppend: async () => {
          opened++;
          return {
            write: async () => {
              throw new Error('no space left on the device');
            },
            sync: async () => undefined,
            close: async () => {
              closed++;
            },
          } as never;
        },
      };
      const run = scriptedRun(losses).pipe(tensorBoard({ logDir: dir, fileSystem }), toArray());
      await assert.rejects(lastValueFrom(run), /no space left on the device/);
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(opened > 0);
      assert.equal(closed, opened, 'every opened event file is closed');
    });
  });
});

describe('hparams', () => {
  it('writes the session start info of the hparams plugin to logDir when a run begins', async () => {
    await withFolder(async (dir) => {
      await lastValueFrom(
        scriptedRun(losses).pipe(
          tensorBoard({ logDir: dir, hparams: { lr: 0.001, optimizer: 'adam', augment: true } }),
        ),
      );
      const [file] = (await readdir(dir)).filter((name) => name.startsWith('events.out.tfevents.'));
      const root = await readEventFile(join(dir, file!));
      const entry = root['_hparams_/session_start_info']!;
      assert.equal(entry.plugin, 'hparams');
      // The plugin reads the metadata's content: HParamsPluginData with the values.
      const events = readRecords(await readFile(join(dir, file!))).records.map(
        (r) =>
          EventMessage.toObject(EventMessage.decode(r)) as {
            summary?: { value: { metadata: { plugin_data: { content: Uint8Array } } }[] };
          },
      );
      const content = events.find((e) => e.summary)!.summary!.value[0]!.metadata.plugin_data
        .content;
      const data = HParamsPluginDataMessage.toObject(HParamsPluginDataMessage.decode(content)) as {
        session_start_info: { hparams: Record<string, unknown>; start_time_secs: number };
      };
      assert.deepEqual(data.session_start_info.hparams, {
        lr: { number_value: 0.001 },
        optimizer: { string_value: 'adam' },
        augment: { bool_value: true },
      });
      assert.ok(data.session_start_info.start_time_secs > 1.7e9);
    });
  });
});

const replay = (events: readonly TrainingEvent[]) =>
  from(
    events.map((event) =>
      Object.freeze({
        ...(JSON.parse(JSON.stringify(event)) as TrainingEvent),
        replayed: true as const,
      }),
    ),
  );

describe('replayed events', () => {
  it('a replayed run that a live run resumes is not written again; the global batch count goes on', async () => {
    await withFolder(async (dir) => {
      // The interrupted run: epochs 0 and 1 finished, then the process died during epoch 2.
      const interrupted = (
        await lastValueFrom(scriptedRun(losses, { batchesPerEpoch: 3, runId: 'r' }).pipe(toArray()))
      ).filter(
        (event) =>
          event.type !== 'trainEnd' && !(event.seq > 0 && 'epoch' in event && event.epoch >= 2),
      );
      await lastValueFrom(
        replay(interrupted).pipe(
          tensorBoard({ logDir: join(dir, 'first'), updateFreq: 'batch', provenance: false }),
        ),
      );
      const resumed = concat(
        replay(interrupted),
        scriptedRun(losses, {
          batchesPerEpoch: 3,
          runId: 'r',
          initialEpoch: 2,
          firstSeq: interrupted.length,
        }),
      );
      await lastValueFrom(
        resumed.pipe(
          tensorBoard({ logDir: join(dir, 'resumed'), updateFreq: 'batch', provenance: false }),
        ),
      );
      const first = pointsOf(await readRunFolder(join(dir, 'first', 'train')));
      const resumedTrain = pointsOf(await readRunFolder(join(dir, 'resumed', 'train')));
      assert.deepEqual(
        first['epoch_loss']!.map(([step]) => step),
        [0, 1],
      );
      assert.deepEqual(
        resumedTrain['epoch_loss']!.map(([step]) => step),
        [2, 3],
      );
      assert.deepEqual(
        resumedTrain['batch_loss']!.map(([step]) => step),
        [7, 8, 9, 10, 11, 12],
      );
      const validation = pointsOf(await readRunFolder(join(dir, 'resumed', 'validation')));
      assert.deepEqual(
        validation['evaluation_loss_vs_iterations']!.map(([step]) => step),
        [9, 12],
      );
    });
  });

  it('one operator serves two runs: each subscription writes its own files', async () => {
    await withFolder(async (dir) => {
      const operator = tensorBoard({ logDir: dir });
      await lastValueFrom(scriptedRun(losses, { runId: 'a' }).pipe(operator));
      await lastValueFrom(scriptedRun(losses, { runId: 'b' }).pipe(operator));
      assert.equal((await readdir(join(dir, 'train'))).length, 2);
      const train = pointsOf(await readRunFolder(join(dir, 'train')));
      assert.deepEqual(
        train['epoch_loss']!.map(([step]) => step),
        [0, 1, 2, 3, 0, 1, 2, 3],
      );
    });
  });

  it('passes every event through unchanged', async () => {
    await withFolder(async (dir) => {
      const run$ = scriptedRun(losses, { runId: 'same' });
      // The events' data (their JSON); times differ between the two runs.
      const data = (events: readonly TrainingEvent[]) =>
        events.map((e) => ({ ...(JSON.parse(JSON.stringify(e)) as TrainingEvent), time: 0 }));
      const plain = await lastValueFrom(run$.pipe(toArray()));
      const piped = await lastValueFrom(run$.pipe(tensorBoard({ logDir: dir }), toArray()));
      assert.deepEqual(data(piped), data(plain));
    });
  });
});
