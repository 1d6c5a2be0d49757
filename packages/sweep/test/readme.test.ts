import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readSweepLog } from '@rxfit/sweep';

describe('README', { timeout: 60_000 }, () => {
  it('its usage blocks are test/fixtures/readme-trial.ts and readme-sweep.ts, which run a sweep', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    const trial = new URL('./fixtures/readme-trial.ts', import.meta.url);
    const main = new URL('./fixtures/readme-sweep.ts', import.meta.url);
    assert.equal(blocks[0], await readFile(trial, 'utf8'));
    assert.equal(blocks[1], await readFile(main, 'utf8'));
    const cwd = await mkdtemp(path.join(tmpdir(), 'rxfit-sweep-readme-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@rxfit/source', '--import', import.meta.resolve('tsx'), fileURLToPath(main)],
        { cwd, timeout: 50_000 },
      );
      assert.match(stdout, /^#\s+trial\s+params\s+best val_acc\s+epochs run\s+pruned at\s+status$/m);
      assert.equal(stdout.match(/trial-000\d/g)?.length, 4);
      const log = readSweepLog(path.join(cwd, 'sweeps/first/sweep.jsonl'));
      assert.equal(log.filter((e) => e.type === 'trialCompleted').length, 4);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
