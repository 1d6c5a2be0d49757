import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { imageFolder, loadImage, type ImageFolderOptions } from '@rxfit/image-folder';
import { pixelBudget } from '../src/image-header.js';
import { resolveOptions } from '../src/resolve-options.js';
import { classFiles, makeTree } from './make-tree.js';

/** Every probe has a bound: a hang fails the test instead of hanging CI. */
const BOUND = { timeout: 60_000 };

async function drain(data: { batches(e: number): AsyncIterable<{ xs: tf.Tensor; ys?: tf.Tensor }> }): Promise<number> {
  let n = 0;
  for await (const b of data.batches(0)) {
    n += b.xs.shape[0];
    tf.dispose(Object.values(b));
  }
  return n;
}

/** A PNG that declares `side` × `side` pixels of one colour: a few MB on disk, `side²·3` bytes decoded. */
async function bomb(side: number): Promise<Buffer> {
  return sharp({ create: { width: side, height: side, channels: 3, background: { r: 9, g: 9, b: 9 } }, limitInputPixels: false })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** Runs `probe` on a tree of 4 + 4 good images plus `extra` files, with workers 0 and 1, error and skip. */
async function probeTree(
  extra: (root: string) => Promise<string[]>,
  check: (outcome: { mode: 'error' | 'skip'; workers: number; error?: Error; loaded?: number; warnings: string[]; names: string[] }) => void,
  options: ImageFolderOptions = {},
): Promise<void> {
  const t = await makeTree(classFiles({ a: 4, b: 4 }));
  try {
    const names = await extra(t.root);
    for (const mode of ['error', 'skip'] as const) {
      for (const workers of [0, 1]) {
        const warnings: string[] = [];
        const data = await imageFolder(t.root, { targetSize: [8, 8], batchSize: 4, workers, shuffle: false, onInvalidImage: mode, onWarning: (m) => void warnings.push(m), ...options });
        try {
          const loaded = await drain(data);
          check({ mode, workers, loaded, warnings, names });
        } catch (error) {
          check({ mode, workers, error: error as Error, warnings, names });
        } finally {
          await data.close();
        }
      }
    }
  } finally {
    await t.cleanup();
  }
}

function expectRefused(reason: RegExp) {
  return ({ mode, workers, error, loaded, warnings, names }: { mode: 'error' | 'skip'; workers: number; error?: Error; loaded?: number; warnings: string[]; names: string[] }) => {
    const where = `${mode}, workers ${workers}`;
    if (mode === 'error') {
      assert.ok(error, `${where}: the epoch fails`);
      assert.match(error.message, new RegExp(`cannot load image ".*(${names.join('|')})": .*${reason.source}`), where);
    } else {
      assert.equal(error, undefined, `${where}: ${String(error)}`);
      assert.equal(loaded, 8, `${where}: the good images load`);
      for (const name of names) {
        assert.ok(warnings.some((w) => w.includes(name) && reason.test(w)), `${where}: a warning names ${name}: ${warnings.join(' | ')}`);
      }
    }
  };
}

describe('image folders with special files', () => {
  it('a FIFO named like an image fails the epoch naming it, or is skipped with a warning', BOUND, async () => {
    await probeTree(async (root) => {
      execFileSync('mkfifo', [join(root, 'a', 'pipe.jpg')]);
      return ['pipe.jpg'];
    }, expectRefused(/not a regular file \(a FIFO\)/));
  });

  it('a link to /dev/zero named like an image is refused before reading, in both modes', BOUND, async () => {
    await probeTree(async (root) => {
      await symlink('/dev/zero', join(root, 'b', 'zero.jpg'));
      return ['zero.jpg'];
    }, expectRefused(/not a regular file \(a character device\)/));
  });

  it('loadImage refuses a FIFO at once', BOUND, async () => {
    const t = await makeTree([]);
    try {
      execFileSync('mkfifo', [join(t.root, 'pipe.png')]);
      await assert.rejects(loadImage(join(t.root, 'pipe.png')), /pipe\.png is not a regular file \(a FIFO\)/);
    } finally {
      await t.cleanup();
    }
  });
});

describe('decode memory is bounded', () => {
  it('an image whose header declares 16000x16000 is refused before decoding, four in a batch too', BOUND, async () => {
    const bytes = await bomb(16000);
    const before = process.memoryUsage().rss;
    await probeTree(async (root) => {
      const names = ['bomb-1.png', 'bomb-2.png', 'bomb-3.png', 'bomb-4.png'];
      await mkdir(join(root, 'c'));
      for (const name of names) await writeFile(join(root, 'c', name), bytes);
      return names;
    }, ({ mode, error, warnings, loaded }) => {
      if (mode === 'error') assert.match(String(error), /declares 16000x16000 \(256000000 pixels\), more than limitInputPixels \(25000000\)/);
      else {
        assert.equal(loaded, 8);
        assert.equal(warnings.filter((w) => /declares 16000x16000/.test(w)).length, 4);
      }
    });
    // Decoding one would take 768 MB (RGB); four took 3.5 GB before the header check.
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grown < 400, `memory grew by ${grown.toFixed(0)} MB`);
  });

  it('a batch of images larger than maxBatchPixels decodes them one after another, and loads them all', BOUND, async () => {
    const t = await makeTree(classFiles({ a: 3, b: 3 }, { width: 40, height: 30 }));
    try {
      const data = await imageFolder(t.root, { targetSize: [8, 8], batchSize: 6, workers: 0, concurrency: 6, maxBatchPixels: 1500 });
      assert.equal(await drain(data), 6);
      await data.close();
    } finally {
      await t.cleanup();
    }
  });

  it('pixelBudget never lets the pixels in flight exceed the budget, and runs an oversized image alone', BOUND, async () => {
    const budget = pixelBudget(100);
    let inFlight = 0;
    let most = 0;
    let alone = true;
    const sizes = [40, 40, 40, 250, 30, 60, 10, 10];
    await Promise.all(
      sizes.map((pixels) =>
        budget.use(pixels, async () => {
          inFlight += Math.min(pixels, 100);
          most = Math.max(most, inFlight);
          if (pixels > 100 && inFlight !== 100) alone = false;
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight -= Math.min(pixels, 100);
        }),
      ),
    );
    assert.equal(most, 100);
    assert.ok(alone, 'the 250-pixel image ran alone');
  });

  it('maxBatchPixels is validated like the other options', () => {
    assert.throws(() => resolveOptions({ maxBatchPixels: 0 }), /imageFolder: maxBatchPixels must be an integer ≥ 1 or false, got 0/);
    assert.equal(resolveOptions({}).maxBatchPixels, 25_000_000);
    assert.equal(resolveOptions({}).limitInputPixels, 25_000_000);
    assert.equal(resolveOptions({ maxBatchPixels: false }).maxBatchPixels, false);
  });
});

describe('folders that cannot be read', () => {
  it('an unreadable sub-folder gives a warning naming it', { ...BOUND, skip: process.getuid?.() === 0 ? 'root reads every folder' : false }, async () => {
    const t = await makeTree([...classFiles({ a: 2, b: 2 }), 'a/locked/x.png']);
    try {
      await chmod(join(t.root, 'a', 'locked'), 0o000);
      const warnings: string[] = [];
      const data = await imageFolder(t.root, { targetSize: [8, 8], workers: 0, onWarning: (m) => void warnings.push(m) });
      assert.equal(data.size, 4);
      assert.ok(warnings.some((w) => /cannot read the folder ".*locked" \(EACCES\): its images are left out/.test(w)), warnings.join(' | '));
      await data.close();
    } finally {
      await chmod(join(t.root, 'a', 'locked'), 0o755);
      await t.cleanup();
    }
  });
});
