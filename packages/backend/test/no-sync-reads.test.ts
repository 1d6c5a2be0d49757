import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

test('no rxfit package reads a tensor synchronously (dataSync, arraySync, bufferSync fail on webgpu in Node)', async () => {
  const found: string[] = [];
  let scanned = 0;
  for (const pkg of await readdir(packages)) {
    const src = join(packages, pkg, 'src');
    const files = await sources(src).catch(() => []);
    for (const file of files) {
      scanned++;
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (/\b(dataSync|arraySync|bufferSync)\s*\(/.test(line))
          found.push(`${relative(packages, file)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.ok(scanned > 50, `scanned ${scanned} files`);
  assert.deepEqual(found, []);
});
