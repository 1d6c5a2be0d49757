import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

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

  it('runs: one progress line per epoch on a pipe, JSON records on stderr', async () => {
    // A child process, so the real default ports (process.stdout, not a TTY here) are used.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@rxfit/source', '--import', import.meta.resolve('tsx'), example],
      { timeout: 60_000 },
    );
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, 6, stdout);
    for (let epoch = 0; epoch < 3; epoch++) {
      assert.equal(lines[2 * epoch], `Epoch ${epoch + 1}/3`);
      assert.match(
        lines[2 * epoch + 1]!,
        /^3\/3 \[={30}\] - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4} - acc: \d\.\d{4} - val_loss: \d\.\d{4} - val_acc: \d\.\d{4} - lr: 0\.0500$/,
      );
    }
    const records = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type: string; runId: string; level: number });
    assert.deepEqual(
      records.map((r) => r.type),
      ['trainBegin', 'epochEnd', 'epochEnd', 'epochEnd', 'trainEnding', 'trainEnd'],
    );
    assert.equal(new Set(records.map((r) => r.runId)).size, 1);
  });
});
