import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import sharp from 'sharp';

const example = fileURLToPath(new URL('./readme-example.ts', import.meta.url));
const readme = fileURLToPath(new URL('../README.md', import.meta.url));

describe('README usage', () => {
  it('is test/readme-example.ts, verbatim', async () => {
    const [code, text] = await Promise.all([readFile(example, 'utf8'), readFile(readme, 'utf8')]);
    assert.ok(
      text.includes('```ts\n' + code + '```'),
      'the README shows the example file unchanged',
    );
  });

  it('runs a real fit and leaves plots/history.svg and .png', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'rxfit-plot-readme-'));
    try {
      // In this test file's own process (node:test gives each file one): the example writes
      // relative to the working directory.
      const previous = process.cwd();
      process.chdir(cwd);
      try {
        await import(example);
      } finally {
        process.chdir(previous);
      }
      assert.deepEqual((await readdir(join(cwd, 'plots'))).sort(), ['history.png', 'history.svg']);
      const svg = await readFile(join(cwd, 'plots', 'history.svg'), 'utf8');
      assert.equal(
        (svg.match(/aria-roledescription="point"/g) ?? []).length,
        20,
        '4 series x 5 epochs',
      );
      const png = await sharp(join(cwd, 'plots', 'history.png')).metadata();
      assert.equal(png.format, 'png');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
