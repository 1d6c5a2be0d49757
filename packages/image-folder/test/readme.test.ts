// The README's usage example runs as written (only the dataset paths point at a generated tree).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { classFiles, makeTree } from './make-tree.js';

it('README usage example runs', async () => {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const code = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'usage block found');
  const tree = await makeTree([
    ...classFiles({ cats: 3, dogs: 2 }).map((f) => ({ ...f, path: `training_set/${f.path}` })),
    ...classFiles({ cats: 1, dogs: 1 }).map((f) => ({ ...f, path: `test_set/${f.path}` })),
  ]);
  // A file next to the tests, so that '@rxfit/image-folder' resolves as it does for a user.
  const file = join(import.meta.dirname, `.readme-usage-${process.pid}.tmp.ts`);
  try {
    await writeFile(file, code.replaceAll("'dataset/", `'${tree.root}/`));
    await import(pathToFileURL(file).href);
  } finally {
    await rm(file, { force: true });
    await tree.cleanup();
  }
});
