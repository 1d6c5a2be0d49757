import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, fit, type TrainingEvent } from '@rxfit/core';
import { backupAndRestore, eventLog, readBackup, readEventLog, resumable } from '@rxfit/event-log';
import { tempDir, tinyData, tinyModel } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** Every probe has a bound: a hang fails the test instead of hanging CI. */
const BOUND = { timeout: 20_000 };
const fitOptions = { epochs: 3, batchSize: 8, seed: 3 } as const;

/** Records the types of the events that went by, so a test can tell a failure came before any batch. */
function recorder() {
  const types: string[] = [];
  return { types, record: tap<TrainingEvent>((event) => types.push(event.type)) };
}

/** A backup left by an interrupted run `runId` in `dir`. */
async function interruptedBackup(dir: string, runId = 'earlier'): Promise<void> {
  const crash = tap<TrainingEvent>((event) => {
    if (event.type === 'epochBegin' && event.epoch === 2) controlOf(event)?.defer(Promise.reject(new Error('simulated crash')));
  });
  await assert.rejects(lastValueFrom(fit(tinyModel(1), tinyData(16), { ...fitOptions, runId }).pipe(backupAndRestore({ dir }), crash)), /simulated crash/);
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = (await readFile(join(dir, name))).toString('base64');
  return files;
}

describe('backupAndRestore never deletes what it did not write', () => {
  it('refuses a folder of foreign files at trainBegin, before the first batch, and deletes nothing', BOUND, async () => {
    const dir = await tempDir();
    const backup = join(dir, 'work');
    await mkdir(join(backup, 'sub'), { recursive: true });
    for (const name of ['precious.txt', 'events.jsonl', 'train.csv']) await writeFile(join(backup, name), `mine: ${name}`);
    await writeFile(join(backup, 'sub', 'deep.txt'), 'deep');
    const { types, record } = recorder();
    await assert.rejects(
      lastValueFrom(fit(tinyModel(1), tinyData(16), fitOptions).pipe(backupAndRestore({ dir: backup }), record)),
      (error: Error) =>
        error.message.includes(`${backup} holds files rxfit did not write`) &&
        ['events.jsonl', 'precious.txt', 'sub', 'train.csv'].every((name) => error.message.includes(name)),
    );
    assert.deepEqual(types, [], 'the operators after it never saw the run begin');
    assert.deepEqual((await readdir(backup)).sort(), ['events.jsonl', 'precious.txt', 'sub', 'train.csv']);
    assert.equal(await readFile(join(backup, 'sub', 'deep.txt'), 'utf8'), 'deep');
  });

  it('removes only its own files when the run completes, and keeps a file put there meanwhile', BOUND, async () => {
    const dir = await tempDir();
    const backup = join(dir, 'backup');
    const sneak = tap<TrainingEvent>((event) => {
      if (event.type === 'epochBegin' && event.epoch === 2) controlOf(event)?.defer(writeFile(join(backup, 'notes.txt'), 'added during the run'));
    });
    await lastValueFrom(fit(tinyModel(1), tinyData(16), fitOptions).pipe(backupAndRestore({ dir: backup }), sneak));
    assert.deepEqual(await readdir(backup), ['notes.txt']);
    assert.equal(await readFile(join(backup, 'notes.txt'), 'utf8'), 'added during the run');
  });

  it('refuses a backup folder that is a symbolic link', BOUND, async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    await assert.rejects(
      lastValueFrom(fit(tinyModel(1), tinyData(16), fitOptions).pipe(backupAndRestore({ dir: join(dir, 'link') }))),
      /backupAndRestore: .*link is a symbolic link/,
    );
  });
});

describe('backupAndRestore alone (issue 11, item 4)', () => {
  it('fails at trainBegin on a backup it was not resumed from, says what to do, and leaves the backup as it was', BOUND, async () => {
    const dir = await tempDir();
    const backup = join(dir, 'backup');
    await interruptedBackup(backup);
    const before = await snapshot(backup);
    const { types, record } = recorder();
    await assert.rejects(
      lastValueFrom(fit(tinyModel(2), tinyData(16), fitOptions).pipe(backupAndRestore({ dir: backup }), record)),
      (error: Error) =>
        error.message.includes(`${backup} holds a backup of run earlier (interrupted after epoch 1)`) &&
        error.message.includes('wrap the run in resumable(') &&
        error.message.includes('delete the folder'),
    );
    // Not even trainBegin reached the operators after it: a csvLogger there keeps the earlier run's rows.
    assert.deepEqual(types, []);
    assert.deepEqual(await snapshot(backup), before, 'the backup is not overwritten');
  });

  it('continues that backup when the run is wrapped in resumable', BOUND, async () => {
    const dir = await tempDir();
    const backup = join(dir, 'backup');
    await interruptedBackup(backup);
    const model = tinyModel(2);
    const events = await lastValueFrom(
      resumable({ dir: backup, model }, (resume) => fit(model, tinyData(16), { ...fitOptions, ...resume })).pipe(
        backupAndRestore({ dir: backup }),
        toArray(),
      ),
    );
    assert.deepEqual(events.filter((e) => e.type === 'epochEnd').map((e) => e.epoch), [2]);
    assert.equal(existsSync(backup), false);
  });
});

describe('resumable reads only what the backup was given', () => {
  async function tamper(edit: (meta: Record<string, unknown>) => unknown): Promise<{ backup: string; dir: string }> {
    const dir = await tempDir();
    const backup = join(dir, 'runs', 'backup');
    await interruptedBackup(backup);
    const path = join(backup, 'backup.json');
    const meta = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify(edit(meta) ?? meta));
    return { backup, dir };
  }
  const resume = (backup: string) => {
    const model = tinyModel(2);
    return lastValueFrom(resumable({ dir: backup, model }, (point) => fit(model, tinyData(16), { ...fitOptions, ...point })));
  };

  it('refuses a weightsFile that leaves the folder, naming the backup and the entry', BOUND, async () => {
    const { backup, dir } = await tamper((meta) => {
      meta['weightsFile'] = '../../secret.bin';
    });
    await writeFile(join(dir, 'secret.bin'), Buffer.alloc(4096)); // what ../../secret.bin leads to
    await assert.rejects(resume(backup), (error: Error) => error.message.includes(`backup ${join(backup, 'backup.json')}: weightsFile is refused`) && error.message.includes('../../secret.bin'));
  });

  it('refuses a weights file that is a FIFO, or a link to /dev/zero, at once', BOUND, async () => {
    for (const make of ['fifo', 'zero'] as const) {
      const { backup } = await tamper(() => undefined);
      const meta = await readBackup(backup);
      const weights = join(backup, meta!.weightsFile);
      execFileSync('rm', [weights]);
      if (make === 'fifo') execFileSync('mkfifo', [weights]);
      else await symlink('/dev/zero', weights);
      await assert.rejects(resume(backup), (error: Error) => error.message.includes(`backup ${backup}: cannot read its weights file ${weights}`), make);
    }
  });

  it('names the backup when its weights file is truncated or longer than its specs', BOUND, async () => {
    for (const change of [(b: Buffer) => b.subarray(0, b.length - 4), (b: Buffer) => Buffer.concat([b, Buffer.alloc(8)])]) {
      const { backup } = await tamper(() => undefined);
      const weights = join(backup, (await readBackup(backup))!.weightsFile);
      await writeFile(weights, change(await readFile(weights)));
      await assert.rejects(resume(backup), new RegExp(`backup ${backup}: cannot read its weights file .*(a truncated file|more than the \\d+ expected)`));
    }
  });

  it('gives a clear error for a backup.json that is null or has fields of the wrong type', BOUND, async () => {
    const { backup } = await tamper(() => null);
    await writeFile(join(backup, 'backup.json'), 'null');
    await assert.rejects(resume(backup), /backup .*backup\.json: not an rxfit backup of version 1/);
    const other = await tamper((meta) => {
      meta['modelWeights'] = 'abc';
    });
    await assert.rejects(resume(other.backup), /backup .*backup\.json: modelWeights must be an array, got "abc"/);
  });
});

describe('eventLog and readEventLog with links and special files', () => {
  it('refuses to append through a link to a file, and leaves the file as it was', BOUND, async () => {
    const dir = await tempDir();
    const target = join(dir, 'someone-elses.txt');
    await writeFile(target, 'no newline at the end');
    await symlink(target, join(dir, 'events.jsonl'));
    await assert.rejects(
      lastValueFrom(fit(tinyModel(1), tinyData(8), { epochs: 1, batchSize: 8 }).pipe(eventLog(join(dir, 'events.jsonl')))),
      /eventLog: .*events\.jsonl is a symbolic link/,
    );
    assert.equal(await readFile(target, 'utf8'), 'no newline at the end', 'nothing appended, no "torn" tail cut');
  });

  it('does not create the file a dangling link points to', BOUND, async () => {
    const dir = await tempDir();
    await symlink(join(dir, 'elsewhere.jsonl'), join(dir, 'events.jsonl'));
    await assert.rejects(
      lastValueFrom(fit(tinyModel(1), tinyData(8), { epochs: 1, batchSize: 8 }).pipe(eventLog(join(dir, 'events.jsonl')))),
      /is a symbolic link/,
    );
    assert.equal(existsSync(join(dir, 'elsewhere.jsonl')), false);
  });

  it('refuses a FIFO as the log, without waiting for a reader', BOUND, async () => {
    const dir = await tempDir();
    execFileSync('mkfifo', [join(dir, 'events.jsonl')]);
    await assert.rejects(
      lastValueFrom(fit(tinyModel(1), tinyData(8), { epochs: 1, batchSize: 8 }).pipe(eventLog(join(dir, 'events.jsonl')))),
      /eventLog: .*events\.jsonl exists and is not a regular file/,
    );
  });

  it('readEventLog refuses a FIFO and a link to /dev/zero instead of hanging or filling memory', BOUND, async () => {
    const dir = await tempDir();
    execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
    await symlink('/dev/zero', join(dir, 'zero.jsonl'));
    await assert.rejects(lastValueFrom(readEventLog(join(dir, 'pipe.jsonl'))), /cannot read .*pipe\.jsonl: .*not a regular file \(a FIFO\)/);
    await assert.rejects(lastValueFrom(readEventLog(join(dir, 'zero.jsonl'))), /not a regular file \(a character device\)/);
  });
});
