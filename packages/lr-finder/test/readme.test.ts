import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

describe('README', () => {
  it('its usage block is test/fixtures/readme-usage.ts, which prints suggestions and writes the plot', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const usage = new URL('./fixtures/readme-usage.ts', import.meta.url);
    assert.equal(block, await readFile(usage, 'utf8'));
    const cwd = await mkdtemp(join(tmpdir(), 'rxfit-lr-finder-readme-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--conditions=@rxfit/source',
          '--import',
          import.meta.resolve('tsx'),
          fileURLToPath(usage),
        ],
        { cwd },
      );
      assert.match(stdout, /suggestion \(valley\): \d/);
      assert.match(stdout, /steepest: \d.*, minimum\/10: \d/);
      assert.match(stdout, /plot: lr-find\.png/);
      await access(join(cwd, 'lr-find.png'));
      await access(join(cwd, 'lr-find.jsonl'));
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
