import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import {
  checkEntryName,
  NotRegularFileError,
  prepareFileTarget,
  readRegularFile,
} from '@rxfit/core/operator-kit';

const dir = mkdtempSync(join(tmpdir(), 'rxfit-core-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TIMEOUT = { timeout: 10_000 };

describe('prepareFileTarget', () => {
  it('creates the missing parent folders of a file target', TIMEOUT, () => {
    const path = join(dir, 'a', 'b', 'log.csv');
    assert.equal(prepareFileTarget('csvLogger', path, { kind: 'file' }), path);
    assert.ok(existsSync(join(dir, 'a', 'b')));
  });

  it('fails naming the folder it cannot create', TIMEOUT, () => {
    writeFileSync(join(dir, 'plain'), 'x');
    assert.throws(
      () => prepareFileTarget('csvLogger', join(dir, 'plain', 'sub', 'log.csv'), { kind: 'file' }),
      (error: Error) => error.message.includes(`cannot create the folder ${join(dir, 'plain', 'sub')}`),
    );
  });

  it('fails naming a folder that is not writable', { ...TIMEOUT, skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    try {
      assert.throws(() => prepareFileTarget('plotHistory', join(locked, 'p.svg'), { kind: 'file' }), /cannot write in the folder .*locked/);
    } finally {
      chmodSync(locked, 0o700);
    }
  });

  it('refuses a symbolic link, dangling or not, naming where it points', TIMEOUT, () => {
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.jsonl'));
    assert.throws(() => prepareFileTarget('eventLog', join(dir, 'dangling.jsonl'), { kind: 'file' }), /is a symbolic link.*points to .*nowhere/);
    assert.equal(existsSync(join(dir, 'nowhere')), false);
  });

  it('refuses a special file and a folder where a file goes', TIMEOUT, () => {
    execFileSync('mkfifo', [join(dir, 'fifo.csv')]);
    assert.throws(() => prepareFileTarget('csvLogger', join(dir, 'fifo.csv'), { kind: 'file' }), /not a regular file \(a special file\)/);
    assert.throws(() => prepareFileTarget('csvLogger', join(dir, 'a'), { kind: 'file' }), /not a regular file \(a folder\)/);
  });

  it('refuses a folder holding foreign files, listing them, and accepts its own', TIMEOUT, () => {
    const folder = join(dir, 'backup');
    mkdirSync(folder);
    writeFileSync(join(folder, 'backup.json'), '{}');
    const owns = (name: string) => name === 'backup.json';
    prepareFileTarget('backupAndRestore', folder, { kind: 'folder', owns });
    writeFileSync(join(folder, 'precious.txt'), 'mine');
    assert.throws(
      () => prepareFileTarget('backupAndRestore', folder, { kind: 'folder', owns }),
      /backupAndRestore: .*backup holds files rxfit did not write \(precious\.txt\)/,
    );
  });
});

describe('readRegularFile', () => {
  it('refuses a FIFO at once instead of waiting for a writer', TIMEOUT, async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.bin')]);
    await assert.rejects(readRegularFile(join(dir, 'pipe.bin')), (error: Error) => error instanceof NotRegularFileError && /a FIFO/.test(error.message));
  });

  it('refuses a link to /dev/zero without reading it', TIMEOUT, async () => {
    symlinkSync('/dev/zero', join(dir, 'zero.bin'));
    await assert.rejects(readRegularFile(join(dir, 'zero.bin')), /not a regular file \(a character device\)/);
    await assert.rejects(readRegularFile(join(dir, 'zero.bin'), { followLinks: false }), /is a symbolic link/);
  });

  it('refuses a file larger than maxBytes and reads a plain one', TIMEOUT, async () => {
    writeFileSync(join(dir, 'ten.bin'), Buffer.alloc(10, 7));
    await assert.rejects(readRegularFile(join(dir, 'ten.bin'), { maxBytes: 9 }), /has 10 bytes, more than the 9 expected/);
    assert.deepEqual([...(await readRegularFile(join(dir, 'ten.bin'), { maxBytes: 10 }))], Array(10).fill(7));
  });
});

describe('checkEntryName', () => {
  it('accepts plain names and refuses anything that could leave the folder', () => {
    checkEntryName('weights.bin');
    for (const bad of ['../../secret.bin', '/etc/passwd', 'a/b.bin', 'a\\b', '..', '.', '', null, 3]) {
      assert.throws(() => checkEntryName(bad), TypeError, String(bad));
    }
  });
});
