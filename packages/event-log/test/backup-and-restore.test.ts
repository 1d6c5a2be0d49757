import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, fit, type TrainingEvent } from '@rxfit/core';
import {
  backupAndRestore,
  eventLog,
  listRuns,
  readBackup,
  readEventLog,
  resumable,
  RESUMED_EVENT,
} from '@rxfit/event-log';
import { tempDir, tinyData, tinyModel, weightsOf } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const EPOCHS = 6;
const fitOptions = { epochs: EPOCHS, batchSize: 8, seed: 3, validationSplit: 0.25 } as const;

/** Fails the run when `epoch` begins, as a crash would interrupt it (the backup of epoch - 1 is written). */
function crashAt(epoch: number) {
  return tap<TrainingEvent>((event) => {
    if (event.type === 'epochBegin' && event.epoch === epoch) controlOf(event)?.defer(Promise.reject(new Error('simulated crash')));
  });
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('backupAndRestore + resumable', () => {
  it('continues an interrupted run to the same weights, log and epochs as an uninterrupted one', async () => {
    const dir = await tempDir();
    const data = tinyData(32);

    // The reference: one uninterrupted run.
    const reference = tinyModel(1);
    const refLog = join(dir, 'ref.jsonl');
    const refTensorsBefore = tf.memory().numTensors;
    const refEvents = await lastValueFrom(
      fit(reference, data, { ...fitOptions, runId: 'ref' }).pipe(eventLog(refLog), backupAndRestore({ dir: join(dir, 'ref-backup') }), toArray()),
    );
    assert.equal(await exists(join(dir, 'ref-backup')), false, 'a completed run deletes its backup');
    const refTensorsAdded = tf.memory().numTensors - refTensorsBefore;

    // The same run, interrupted when epoch 3 begins.
    const log = join(dir, 'events.jsonl');
    const backup = join(dir, 'backup');
    const start = (model: tf.LayersModel) =>
      resumable({ dir: backup, log, model }, (resume) => fit(model, data, { ...fitOptions, runId: 'run', ...resume })).pipe(
        eventLog(log),
        backupAndRestore({ dir: backup }),
      );
    const first = tinyModel(1);
    await assert.rejects(lastValueFrom(start(first).pipe(crashAt(3))), /simulated crash/);
    const meta = await readBackup(backup);
    assert.equal(meta?.epoch, 2);
    assert.equal(meta?.nextEpoch, 3);
    assert.equal(meta?.runId, 'run');
    assert.deepEqual((await readdir(backup)).sort(), ['backup.json', 'weights-2.bin']);
    first.dispose();

    // What a kill during a save leaves behind: temp files, which no reader trusts.
    await writeFile(join(backup, '.weights-3.bin.999.0a1b2c3d.tmp'), 'half');
    await writeFile(join(backup, '.backup.json.999.0a1b2c3d.tmp'), '{"schema":');

    // A new process, crashing again when epoch 5 begins: the resume of a resumed run.
    const middle = tinyModel(7);
    await assert.rejects(lastValueFrom(start(middle).pipe(crashAt(5), toArray())), /simulated crash/);
    assert.equal((await readBackup(backup))?.nextEpoch, 5);
    assert.deepEqual((await readdir(backup)).sort(), ['backup.json', 'weights-4.bin'], 'the next save cleans up');
    middle.dispose();

    // And again: a fresh model with other initial weights, the same program.
    const second = tinyModel(42);
    const tensorsBefore = tf.memory().numTensors;
    const resumed = await lastValueFrom(start(second).pipe(toArray()));
    assert.equal(await exists(backup), false);

    assert.deepEqual(weightsOf(second), weightsOf(reference), 'final weights equal the uninterrupted run');
    // Restoring adds Adam's moments and nothing else: as many tensors as the reference run added.
    assert.equal(refTensorsAdded, 2 * reference.trainableWeights.length);
    assert.equal(tf.memory().numTensors - tensorsBefore, refTensorsAdded);

    const replayed = resumed.filter((e) => e.replayed);
    const live = resumed.filter((e) => !e.replayed);
    const lastMeta = { lastSeq: live[0]!.seq - 1 };
    assert.equal(replayed.at(-1)?.seq, lastMeta.lastSeq);
    assert.equal(live[0]?.type, 'trainBegin');
    assert.deepEqual(live[1]?.type === 'custom' && [live[1].name, live[1].data], [
      RESUMED_EVENT,
      {
        epoch: 5,
        lastSeq: lastMeta.lastSeq,
        dir: backup,
        message: `Resumed run ${live[0].runId} from the backup in ${backup}: continuing with epoch 6`,
      },
    ]);
    // The replay is the log as written: the trainBegin of the first start and of the first resume.
    // Operators carry on across both by core's run rule (decisionFold: same run, same state).
    assert.equal(replayed.filter((e) => e.type === 'trainBegin').length, 2);
    assert.deepEqual(
      replayed.filter((e) => e.type === 'epochEnd').map((e) => e.epoch),
      [0, 1, 2, 3, 4],
    );

    const logged = await lastValueFrom(readEventLog(log).pipe(toArray()));
    assert.deepEqual(
      logged.map((e) => e.seq),
      logged.map((_, i) => i),
      'seq is gap-free',
    );
    assert.deepEqual(
      logged.filter((e) => e.type === 'epochEnd').map((e) => e.epoch),
      [0, 1, 2, 3, 4, 5],
    );
    const losses = (events: readonly TrainingEvent[]) =>
      events.flatMap((e) => (e.type === 'epochEnd' ? [[e.epoch, e.logs['loss'], e.logs['val_loss'], e.logs['lr']]] : []));
    assert.deepEqual(losses(logged), losses(refEvents));
    const [run] = await listRuns(log);
    assert.deepEqual([run?.starts, run?.endReason], [3, 'completed']);
  });

  for (const placement of ['before', 'after'] as const) {
    it(`restores the rate a schedule set, not the next epoch's (schedule ${placement} backupAndRestore)`, async () => {
      const dir = await tempDir();
      const data = tinyData(32);
      // A schedule that depends on the rate in force: applied twice, it would show.
      const halve = tap<TrainingEvent>((event) => {
        const control = controlOf(event);
        if (event.type === 'epochBegin' && event.epoch > 0 && control) {
          control.setLearningRate(control.learningRate / 2, { by: 'halve' });
        }
      });
      const run = (model: tf.LayersModel, name: string) => {
        const log = join(dir, `${name}.jsonl`);
        const backup = join(dir, `${name}-backup`);
        const backups = backupAndRestore({ dir: backup });
        return resumable({ dir: backup, log, model }, (resume) => fit(model, data, { ...fitOptions, runId: name, ...resume })).pipe(
          eventLog(log),
          placement === 'before' ? halve : backups,
          placement === 'before' ? backups : halve,
        );
      };
      const lrs = (events: TrainingEvent[]) =>
        events.filter((e) => e.type === 'epochEnd').map((e) => (e.type === 'epochEnd' ? e.logs['lr'] : undefined));
      const reference = await lastValueFrom(run(tinyModel(1), 'ref').pipe(toArray()));
      await assert.rejects(lastValueFrom(run(tinyModel(1), 'crashed').pipe(crashAt(3))), /simulated crash/);
      const resumed = await lastValueFrom(run(tinyModel(1), 'crashed').pipe(toArray()));
      assert.deepEqual(lrs(resumed), lrs(reference));
      lrs(reference).forEach((lr, epoch) => assert.ok(Math.abs(lr! - 0.05 / 2 ** epoch) < 1e-9, `lr at epoch ${epoch}`));
    });
  }

  it('keeps a completed backup with deleteOnComplete: false, and running again trains no more', async () => {
    const dir = await tempDir();
    const data = tinyData(16);
    const log = join(dir, 'events.jsonl');
    const backup = join(dir, 'backup');
    const start = (model: tf.LayersModel) =>
      resumable({ dir: backup, log, model }, (resume) => fit(model, data, { epochs: 2, batchSize: 8, seed: 1, ...resume })).pipe(
        eventLog(log),
        backupAndRestore({ dir: backup, deleteOnComplete: false }),
        toArray(),
      );
    const model = tinyModel(1);
    const events = await lastValueFrom(start(model));
    assert.equal((await readBackup(backup))?.completed, true);
    const again = tinyModel(5);
    const replay = await lastValueFrom(start(again));
    assert.ok(replay.every((e) => e.replayed));
    assert.deepEqual(
      replay.map((e) => e.seq),
      events.map((e) => e.seq),
    );
    assert.deepEqual(weightsOf(again), weightsOf(model));
    assert.equal((await listRuns(log)).length, 1);
  });

  it('starts a fresh run when there is no backup', async () => {
    const dir = await tempDir();
    let seen: unknown;
    const model = tinyModel(1);
    await lastValueFrom(
      resumable({ dir: join(dir, 'none'), model }, (resume) => {
        seen = resume;
        return fit(model, tinyData(8), { epochs: 1, batchSize: 8 });
      }).pipe(toArray()),
    );
    assert.deepEqual(seen, {});
  });

  it('refuses a log that does not hold the backed-up run', async () => {
    const dir = await tempDir();
    const data = tinyData(16);
    const backup = join(dir, 'backup');
    const model = tinyModel(1);
    await assert.rejects(
      lastValueFrom(
        fit(model, data, { epochs: 3, batchSize: 8, runId: 'x' }).pipe(backupAndRestore({ dir: backup }), crashAt(2)),
      ),
    );
    const other = join(dir, 'other.jsonl');
    await lastValueFrom(fit(model, data, { epochs: 1, batchSize: 8, runId: 'y' }).pipe(eventLog(other)));
    await assert.rejects(
      lastValueFrom(resumable({ dir: backup, log: other, model }, (resume) => fit(model, data, { epochs: 3, ...resume }))),
      /does not hold seq \d+ of run x/,
    );
  });

  it('validates its options at call time', () => {
    assert.throws(() => backupAndRestore({ dir: '' }), /backupAndRestore: dir must be a non-empty string, got ""/);
    assert.throws(
      () => backupAndRestore({ dir: 'b', deleteOnComplete: 1 as unknown as boolean }),
      /backupAndRestore: deleteOnComplete must be a boolean, got 1/,
    );
    const model = tinyModel(1);
    assert.throws(() => resumable({ dir: '', model }, () => fit(model, tinyData(4))), /resumable: dir must be a non-empty string/);
    assert.throws(
      () => resumable({ dir: 'b', model: {} as unknown as tf.LayersModel }, () => fit(model, tinyData(4))),
      /resumable: model must be the tf.LayersModel/,
    );
  });
});
