import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

describe('README', () => {
  it('its usage block is test/fixtures/readme-usage.ts, which runs', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const usage = new URL('./fixtures/readme-usage.ts', import.meta.url);
    assert.equal(block, await readFile(usage, 'utf8'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@rxfit/source', '--import', 'tsx', fileURLToPath(usage)],
      { cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
    );
    const rates = (stdout.match(/\d[\d.e-]*/g) ?? []).map(Number);
    assert.equal(rates.length, 6, stdout);
    // The warmup: 0.01, 0.055, then 0.1 (as float32), whatever the plateau does later.
    [0.01, 0.055, 0.1].forEach((lr, i) => assert.ok(Math.abs(rates[i]! - lr) < 1e-7, stdout));
  });
});
