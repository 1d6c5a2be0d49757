import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { imageFolder, type ImageFolderOptions } from '@rxfit/image-folder';
import { decodeBmp, decodeImage, decodeNetpbm } from '@rxfit/image-folder/pipeline';
import { classFiles, encode, makeTree, pattern } from './make-tree.js';

async function drain(data: {
  batches(e: number): AsyncIterable<{ xs: tf.Tensor; ys?: tf.Tensor }>;
}): Promise<number> {
  let n = 0;
  for await (const b of data.batches(0)) {
    n += b.xs.shape[0];
    tf.dispose(Object.values(b));
  }
  return n;
}

describe('bad images', () => {
  it('a corrupt or truncated image fails the batch with an error naming the file', async () => {
    const jpeg = await encode(pattern(40, 30, 1), 40, 30, 3, 'jpeg');
    for (const [name, bytes] of [
      ['truncated.jpg', jpeg.subarray(0, jpeg.length - 60)],
      ['garbage.png', Buffer.from('this is not a png at all')],
      ['empty.jpg', Buffer.alloc(0)],
    ] as const) {
      const t = await makeTree([...classFiles({ a: 3, b: 3 }), { path: `a/${name}`, bytes }]);
      try {
        for (const workers of [0, 1]) {
          const data = await imageFolder(t.root, { targetSize: [8, 8], workers, shuffle: false });
          await assert.rejects(drain(data), (err: Error) => {
            assert.match(
              err.message,
              new RegExp(`cannot load image ".*a[\\\\/]${name.replace('.', '\\.')}"`),
            );
            return true;
          });
          await data.close();
        }
      } finally {
        await t.cleanup();
      }
    }
  });

  it("onInvalidImage 'skip': the image is left out, a warning names it once, stats count it", async () => {
    const t = await makeTree([
      ...classFiles({ a: 4, b: 4 }),
      { path: 'a/bad.png', bytes: Buffer.from('nope') },
    ]);
    try {
      const warnings: string[] = [];
      // A batch whose every image is invalid is skipped entirely.
      const alone = await imageFolder(t.root, {
        classes: ['a'],
        targetSize: [8, 8],
        batchSize: 1,
        onInvalidImage: 'skip',
        onWarning: () => {},
        workers: 0,
        shuffle: false,
      });
      assert.equal(await drain(alone), 4);
      assert.equal(alone.stats().batches, 4);
      const data = await imageFolder(t.root, {
        targetSize: [8, 8],
        batchSize: 4,
        onInvalidImage: 'skip',
        onWarning: (w) => warnings.push(w),
        workers: 0,
        shuffle: false,
      });
      assert.equal(data.size, 9);
      assert.equal(await drain(data), 8);
      assert.equal(await drain(data), 8);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /skipping invalid image ".*bad\.png"/);
      assert.deepEqual(
        { ...data.stats(), waitMs: 0 },
        { waitMs: 0, batches: 6, images: 16, skipped: 2, warnings: 1 },
      );
      const lines: string[] = [];
      const viaLogger = await imageFolder(t.root, {
        targetSize: [8, 8],
        onInvalidImage: 'skip',
        logger: (l) => lines.push(l),
        workers: 0,
      });
      await drain(viaLogger);
      assert.deepEqual(lines.length, 2);
      assert.match(lines[1]!, /^Warning: skipping invalid image/);
    } finally {
      await t.cleanup();
    }
  });

  it('limitInputPixels rejects decompression bombs before decoding them', async () => {
    const t = await makeTree([{ path: 'a/big.png', width: 200, height: 200 }, 'a/small.png']);
    try {
      const data = await imageFolder(t.root, {
        targetSize: [8, 8],
        limitInputPixels: 10_000,
        shuffle: false,
        workers: 0,
      });
      await assert.rejects(
        drain(data),
        /cannot load image ".*big\.png": the image declares 200x200 \(40000 pixels\), more than limitInputPixels \(10000\)/,
      );
      const header = Buffer.alloc(54);
      header.write('BM', 0);
      header.writeUInt32LE(54, 10);
      header.writeUInt32LE(40, 14);
      header.writeInt32LE(100_000, 18);
      header.writeInt32LE(100_000, 22);
      header.writeUInt16LE(24, 28);
      assert.throws(() => decodeBmp(header, 1e6), /exceeds pixel limit/);
      assert.throws(
        () => decodeNetpbm(Buffer.from('P6 100000 100000 255 '), 1e6),
        /exceeds pixel limit/,
      );
    } finally {
      await t.cleanup();
    }
  });

  it('non-image files are ignored; GIF, WebP, TIFF, BMP and PPM decode', async () => {
    const px = pattern(6, 4, 2);
    const bmp = Buffer.alloc(54 + 4 * 20);
    bmp.write('BM', 0);
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(6, 18);
    bmp.writeInt32LE(4, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 6; x++) {
        const o = 54 + (3 - y) * 20 + x * 3; // bottom-up rows, BGR, rows padded to 20 bytes
        bmp[o] = px[(y * 6 + x) * 3 + 2]!;
        bmp[o + 1] = px[(y * 6 + x) * 3 + 1]!;
        bmp[o + 2] = px[(y * 6 + x) * 3]!;
      }
    const ppm = Buffer.concat([Buffer.from('P6\n# comment\n6 4\n255\n'), Buffer.from(px)]);
    const t = await makeTree([
      { path: 'a/x.bmp', bytes: bmp },
      { path: 'a/x.ppm', bytes: ppm },
      { path: 'a/x.tif', bytes: await encode(px, 6, 4, 3, 'tiff') },
      { path: 'a/x.webp', bytes: await encode(px, 6, 4, 3, 'webp') },
      { path: 'a/x.png', bytes: await encode(px, 6, 4, 3, 'png') },
      { path: 'a/x.gif', bytes: await encode(px, 6, 4, 3, 'gif') },
      { path: 'a/notes.txt', bytes: Buffer.from('hello') },
      { path: 'a/.DS_Store', bytes: Buffer.from('junk') },
    ]);
    try {
      const data = await imageFolder(t.root, {
        targetSize: [4, 6],
        batchSize: 10,
        shuffle: false,
        workers: 0,
      });
      assert.deepEqual(data.filenames, [
        'a/x.bmp',
        'a/x.gif',
        'a/x.png',
        'a/x.ppm',
        'a/x.tif',
        'a/x.webp',
      ]);
      for await (const { xs, ys } of data.batches(0)) {
        const v = xs.dataSync();
        const per = 4 * 6 * 3;
        for (const i of [0, 2, 3, 4, 5])
          assert.deepEqual([...v.subarray(i * per, (i + 1) * per)], [...px], data.filenames[i]); // lossless
        tf.dispose([xs, ys]);
      }
      const grey = await decodeImage(Buffer.from('P2 2 2 15 0 15 3 7'));
      assert.deepEqual([...grey.data], [0, 255, 51, 119]);
    } finally {
      await t.cleanup();
    }
  });

  it('empty directory, no class folders, a class without images, missing folder: clear errors', async () => {
    const t = await makeTree(['ok/1.png', 'nothing/readme.txt'], ['zz-empty']);
    try {
      await assert.rejects(
        imageFolder(join(t.root, 'zz-empty')),
        /no class folders in ".*zz-empty"/,
      );
      await assert.rejects(imageFolder(join(t.root, 'nope')), /directory ".*nope" does not exist/);
      await assert.rejects(imageFolder(t.root), /class folder ".*nothing" contains no images/);
      await assert.rejects(
        imageFolder(t.root, { classes: ['nothing'], allowEmptyClasses: true }),
        /no images to load in/,
      );
      await writeFile(join(t.root, 'file.png'), await readFile(join(t.root, 'ok', '1.png')));
      await assert.rejects(imageFolder(join(t.root, 'file.png')), /is not a folder/);
    } finally {
      await t.cleanup();
    }
  });
});

describe('bad options fail at call time, naming the option, the value and what is allowed', () => {
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ targetSize: [64] }, TypeError, /targetSize must be \[height, width\], got \[64\]/],
    [
      { targetSize: [0, 64] },
      RangeError,
      /targetSize\[0\] \(height\) must be an integer ≥ 1, got 0/,
    ],
    [
      { targetSize: [64, 6.5] },
      RangeError,
      /targetSize\[1\] \(width\) must be an integer ≥ 1, got 6\.5/,
    ],
    [{ batchSize: 0 }, RangeError, /batchSize must be an integer ≥ 1, got 0/],
    [{ batchSize: '32' }, TypeError, /batchSize must be an integer ≥ 1, got '32'/],
    [
      { colorMode: 'RGB' },
      RangeError,
      /colorMode must be one of 'rgb', 'grayscale', 'rgba', got 'RGB'/,
    ],
    [
      { classMode: 'int' },
      RangeError,
      /classMode must be one of 'binary', 'categorical', 'sparse', 'input', null, got 'int'/,
    ],
    [
      { interpolation: 'cubic' },
      RangeError,
      /interpolation must be one of .*'lanczos', got 'cubic'/,
    ],
    [
      { fillMode: 'mirror' },
      RangeError,
      /fillMode must be one of 'nearest', 'constant', 'reflect', 'wrap', got 'mirror'/,
    ],
    [{ validationSplit: 1 }, RangeError, /validationSplit must be a number in \[0, 1\), got 1/],
    [{ subset: 'training' }, RangeError, /subset 'training' needs validationSplit in \(0, 1\)/],
    [
      { subset: 'test', validationSplit: 0.2 },
      RangeError,
      /subset must be one of 'training', 'validation', null, got 'test'/,
    ],
    [{ rotationRange: -5 }, RangeError, /rotationRange must be a number of degrees ≥ 0, got -5/],
    [{ zoomRange: [1.2, 0.8] }, RangeError, /zoomRange must be .* lo ≤ hi, got \[1\.2,0\.8\]/],
    [{ zoomRange: 'big' }, TypeError, /zoomRange must be/],
    [{ brightnessRange: [0.5] }, TypeError, /brightnessRange must be \[lo, hi\]/],
    [{ widthShiftRange: NaN }, TypeError, /widthShiftRange must be .*, got null/],
    [{ horizontalFlip: 'yes' }, TypeError, /horizontalFlip must be true or false, got 'yes'/],
    [{ seed: -1 }, RangeError, /seed must be a non-negative safe integer, got -1/],
    [{ prefetch: 1.5 }, RangeError, /prefetch must be an integer ≥ 0, got 1\.5/],
    [{ workers: -1 }, RangeError, /workers must be an integer ≥ 0/],
    [
      { onInvalidImage: 'ignore' },
      RangeError,
      /onInvalidImage must be one of 'error', 'skip', got 'ignore'/,
    ],
    [
      { fastResize: true, interpolation: 'box' },
      RangeError,
      /fastResize supports interpolation .*, got 'box'/,
    ],
    [
      { limitInputPixels: 0 },
      RangeError,
      /limitInputPixels must be an integer ≥ 1 or false, got 0/,
    ],
    [{ classes: [] }, RangeError, /classes must list at least one folder/],
    [{ classes: ['a', 'a'] }, RangeError, /classes has duplicates/],
    [{ logger: 'console' }, TypeError, /logger must be a function, got 'console'/],
    [{ target_size: [64, 64] }, TypeError, /unknown option 'target_size'/],
  ];
  for (const [opts, type, message] of cases) {
    it(JSON.stringify(opts), async () => {
      // Options are checked before the folder is touched: a missing folder does not matter.
      await assert.rejects(
        imageFolder('/definitely/not/there', opts as ImageFolderOptions),
        (err: Error) => {
          assert.ok(err instanceof type, `${err.constructor.name}: ${err.message}`);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('batches(epoch) checks the epoch', async () => {
    const t = await makeTree(['a/1.png']);
    try {
      const data = await imageFolder(t.root, { workers: 0 });
      assert.throws(() => data.batches(-1), /batches\(epoch\) needs an integer epoch ≥ 0, got -1/);
    } finally {
      await t.cleanup();
    }
  });
});
