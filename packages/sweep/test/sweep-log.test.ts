import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readSweepLog } from '@rxfit/sweep';
import { SweepLogWriter } from '../src/sweep-log.js';
import type { SweepEvent } from '../src/events.js';
import { withDir } from './helpers.js';

const begin = { type: 'sweepBegin', sweepId: 's', seq: 0, time: 1 } as unknown as SweepEvent;

describe('the sweep log', () => {
  it('a torn header (a kill during the first write) is cut and written again: the log stays readable', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'sweep.jsonl');
      await writeFile(file, '{"schema":"rxf');
      const writer = new SweepLogWriter(file);
      writer.append(begin);
      writer.close();
      assert.match(await readFile(file, 'utf8'), /^\{"schema":"rxfit.sweep","version":1\}\n\{/);
      assert.deepEqual(readSweepLog(file).map((e) => e.type), ['sweepBegin']);
    });
  });

  it('a torn last line is cut before appending; a link at the path is refused', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'sweep.jsonl');
      const first = new SweepLogWriter(file);
      first.append(begin);
      first.close();
      await writeFile(file, (await readFile(file, 'utf8')) + '{"type":"tri');
      const second = new SweepLogWriter(file);
      second.append({ ...begin, seq: 1 });
      second.close();
      assert.deepEqual(readSweepLog(file).map((e) => e.seq), [0, 1]);
      const link = path.join(dir, 'link.jsonl');
      await symlink(file, link);
      assert.throws(() => new SweepLogWriter(link), /sweep: .*link/);
    });
  });
});
