import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

describe('README', () => {
  it('its usage block is test/fixtures/readme-usage.ts, which writes training.csv', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const usage = new URL('./fixtures/readme-usage.ts', import.meta.url);
    assert.equal(block, await readFile(usage, 'utf8'));
    const cwd = await mkdtemp(join(tmpdir(), 'rxfit-csv-readme-'));
    try {
      await promisify(execFile)(
        process.execPath,
        [
          '--conditions=@rxfit/source',
          '--import',
          import.meta.resolve('tsx'),
          fileURLToPath(usage),
        ],
        { cwd },
      );
      const lines = (await readFile(join(cwd, 'training.csv'), 'utf8')).split('\r\n');
      assert.equal(lines[0], 'epoch,loss,lr,mae,val_loss,val_mae');
      assert.equal(lines.length, 5, 'a header, 3 rows, and the final line end');
      assert.match(lines[1]!, /^0,[\d.e-]+,0\.01,[\d.e-]+,[\d.e-]+,[\d.e-]+$/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
