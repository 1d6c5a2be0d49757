import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '@rxfit/core/operator-kit';

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-atomic-'));
    const file = path.join(dir, 'best.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new');
    assert.equal(await readFile(file, 'utf8'), 'new');
    await writeFileAtomic(file, new Uint8Array([65, 66]));
    assert.equal(await readFile(file, 'utf8'), 'AB');
    assert.deepEqual(await readdir(dir), ['best.json']);
    await rm(dir, { recursive: true });
  });

  it('fails with the file system error when the folder is missing, writing nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-atomic-'));
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x.csv'), 'a'), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dir), []);
    await rm(dir, { recursive: true });
  });

  it('keeps the old content when the target cannot be replaced', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-atomic-'));
    // A non-empty folder in the target's place: rename fails, the temporary file is removed.
    await writeFileAtomic(path.join(dir, 'keep.txt'), 'kept');
    const target = path.join(dir, 'target');
    await mkdir(path.join(target, 'inside'), { recursive: true });
    await assert.rejects(writeFileAtomic(target, 'x'));
    assert.equal(await readFile(path.join(dir, 'keep.txt'), 'utf8'), 'kept');
    assert.deepEqual((await readdir(dir)).sort(), ['keep.txt', 'target']);
    await rm(dir, { recursive: true });
  });
});
