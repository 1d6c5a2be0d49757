import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pointsOf, readRunFolder, withFolder } from './helpers.js';

describe('README', () => {
  it('its usage block is test/fixtures/readme-usage.ts, which writes and converts TensorBoard logs', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const usage = new URL('./fixtures/readme-usage.ts', import.meta.url);
    assert.equal(block, await readFile(usage, 'utf8'));
    await withFolder(async (cwd) => {
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
      assert.deepEqual((await readdir(join(cwd, 'logs'))).sort().slice(-2), [
        'train',
        'validation',
      ]);
      const live = await readRunFolder(join(cwd, 'logs', 'train'));
      assert.equal(live['epoch_loss']!.points.length, 5);
      assert.equal(live['batch_loss']!.points.length, 15);
      assert.ok(Object.keys(live).some((tag) => /\/out\/kernel\/histogram$/.test(tag)));
      const converted = pointsOf(await readRunFolder(join(cwd, 'converted', 'train')));
      assert.deepEqual(converted['epoch_loss'], pointsOf(live)['epoch_loss']);
    });
  });
});
