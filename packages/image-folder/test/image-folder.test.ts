import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { imageFolder, type ImageFolder, type LabelledBatch } from '@rxfit/image-folder';
import { classFiles, makeTree, type Tree } from './make-tree.js';

async function collect(
  data: ImageFolder,
  epoch: number,
): Promise<{ xs: Float32Array[]; ys: number[][]; shapes: number[][] }> {
  const out = { xs: [] as Float32Array[], ys: [] as number[][], shapes: [] as number[][] };
  for await (const { xs, ys } of data.batches(epoch)) {
    out.shapes.push(xs.shape);
    out.xs.push(xs.dataSync() as Float32Array);
    out.ys.push([...(ys.dataSync() as Float32Array)]);
    tf.dispose([xs, ys]);
  }
  return out;
}

describe('imageFolder', () => {
  let tree: Tree;
  // 11 + 6 images of 10×8; distinct patterns, so pixels identify files.
  before(async () => {
    tree = await makeTree(classFiles({ cats: 11, dogs: 6 }));
  });
  after(() => tree.cleanup());

  it('exposes the BatchSource shape: size, batchesPerEpoch, description, classes', async () => {
    const lines: string[] = [];
    const data = await imageFolder(tree.root, {
      targetSize: [8, 8],
      batchSize: 5,
      logger: (l) => lines.push(l),
      seed: 1,
    });
    assert.equal(data.size, 17);
    assert.equal(data.batchesPerEpoch, 4);
    assert.equal(data.description, 'Found 17 images belonging to 2 classes.');
    assert.deepEqual(lines, [data.description]);
    assert.deepEqual(data.classNames, ['cats', 'dogs']);
    assert.deepEqual(data.classIndices, { cats: 0, dogs: 1 });
    assert.equal(data.filenames[0], 'cats/cats.0.png');
    assert.equal(data.filenames[2], 'cats/cats.10.png'); // code-point order, like Keras
    assert.equal(typeof data.batches(0)[Symbol.asyncIterator], 'function');
  });

  it('labels: binary/sparse float32 [b], categorical one-hot [b, k], input = separate image copy, null = xs only', async () => {
    const common = { targetSize: [8, 8] as [number, number], batchSize: 8, shuffle: false };
    for (const classMode of ['binary', 'sparse'] as const) {
      const data = await imageFolder(tree.root, { ...common, classMode });
      const { ys, shapes } = await collect(data, 0);
      assert.deepEqual(shapes, [
        [8, 8, 8, 3],
        [8, 8, 8, 3],
        [1, 8, 8, 3],
      ]);
      assert.deepEqual(ys.flat(), [
        ...new Array<number>(11).fill(0),
        ...new Array<number>(6).fill(1),
      ]);
    }
    const cat = await imageFolder(tree.root, { ...common, classMode: 'categorical' });
    for await (const { xs, ys } of cat.batches(0)) {
      assert.equal(ys.dtype, 'float32');
      assert.deepEqual(ys.shape, [xs.shape[0], 2]);
      const rows = ys.arraySync() as number[][];
      assert.ok(rows.every((r) => r[0]! + r[1]! === 1));
      tf.dispose([xs, ys]);
    }
    const input = await imageFolder(tree.root, { ...common, classMode: 'input' });
    for await (const { xs, ys } of input.batches(0)) {
      assert.notEqual(xs, ys);
      assert.deepEqual(ys.shape, xs.shape);
      assert.deepEqual(ys.dataSync(), xs.dataSync());
      xs.dispose();
      assert.equal(ys.isDisposed, false); // a separate tensor
      ys.dataSync();
      ys.dispose();
    }
    const none = await imageFolder(tree.root, { ...common, classMode: null });
    for await (const batch of none.batches(0)) {
      assert.deepEqual(Object.keys(batch), ['xs']);
      batch.xs.dispose();
    }
  });

  it('values: float32 in [0, 255] without rescale, [0, 1] with rescale 1/255; grayscale and rgba shapes', async () => {
    const raw = await collect(
      await imageFolder(tree.root, { targetSize: [6, 7], shuffle: false }),
      0,
    );
    const all = raw.xs.flatMap((x) => [...x]);
    assert.ok(all.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    assert.ok(Math.max(...all) > 200);
    const scaled = await collect(
      await imageFolder(tree.root, { targetSize: [6, 7], shuffle: false, rescale: 1 / 255 }),
      0,
    );
    scaled.xs.forEach((x, b) =>
      x.forEach((v, i) => assert.equal(v, Math.fround(raw.xs[b]![i]! * Math.fround(1 / 255)))),
    );
    for (const [colorMode, c] of [
      ['grayscale', 1],
      ['rgba', 4],
    ] as const) {
      const d = await collect(
        await imageFolder(tree.root, { targetSize: [6, 7], colorMode, batchSize: 32 }),
        0,
      );
      assert.deepEqual(d.shapes, [[17, 6, 7, c]]);
    }
  });

  it('shuffle: a permutation per epoch; same seed → same order and augmentation; different epochs differ', async () => {
    const opts = {
      targetSize: [8, 8] as [number, number],
      batchSize: 4,
      classMode: 'sparse' as const,
      seed: 42,
      rotationRange: 30,
      zoomRange: 0.2,
      horizontalFlip: true,
    };
    const a = await imageFolder(tree.root, opts);
    const b = await imageFolder(tree.root, opts);
    const a0 = await collect(a, 0);
    const b0 = await collect(b, 0);
    assert.deepEqual(a0.ys, b0.ys);
    assert.deepEqual(a0.xs, b0.xs);
    const a1 = await collect(a, 1);
    assert.notDeepEqual(a1.ys.flat(), a0.ys.flat());
    assert.deepEqual([...a1.ys.flat()].sort(), [...a0.ys.flat()].sort()); // same samples
    const c = await imageFolder(tree.root, { ...opts, seed: 43 });
    assert.notDeepEqual((await collect(c, 0)).xs, a0.xs);
  });

  it('epoch e depends only on (seed, e): a resumed run sees the same data as an uninterrupted one', async () => {
    const opts = {
      targetSize: [8, 8] as [number, number],
      batchSize: 4,
      seed: 9,
      zoomRange: 0.3,
      horizontalFlip: true,
    };
    const long = await imageFolder(tree.root, opts);
    for (let e = 0; e < 3; e++) await collect(long, e);
    const afterThree = await collect(long, 3);
    const resumed = await imageFolder(tree.root, opts);
    assert.deepEqual(await collect(resumed, 3), afterThree);
    assert.deepEqual(await collect(long, 3), afterThree); // re-reading an epoch is repeatable too
  });

  it('shuffle false keeps Keras file order; the last partial batch is kept', async () => {
    const data = await imageFolder(tree.root, {
      targetSize: [8, 8],
      batchSize: 5,
      shuffle: false,
      classMode: 'sparse',
    });
    const { ys, shapes } = await collect(data, 0);
    assert.deepEqual(
      shapes.map((s) => s[0]),
      [5, 5, 5, 2],
    );
    assert.deepEqual(ys.flat(), [...data.classes]);
  });

  it('workers (threads) and workers: 0 (main thread) give identical batches', async () => {
    const opts = {
      targetSize: [8, 8] as [number, number],
      batchSize: 6,
      seed: 3,
      rotationRange: 20,
      brightnessRange: [0.5, 1.5] as [number, number],
      fillMode: 'reflect' as const,
    };
    const threaded = await imageFolder(tree.root, { ...opts, workers: 2 });
    const main = await imageFolder(tree.root, { ...opts, workers: 0 });
    assert.deepEqual(await collect(threaded, 2), await collect(main, 2));
    await threaded.close();
  });

  it('validation split: disjoint subsets that together are the whole folder', async () => {
    const base = { targetSize: [8, 8] as [number, number], validationSplit: 0.25, seed: 1 };
    const train = await imageFolder(tree.root, { ...base, subset: 'training' });
    const val = await imageFolder(tree.root, { ...base, subset: 'validation' });
    assert.deepEqual(val.filenames, ['cats/cats.0.png', 'cats/cats.1.png', 'dogs/dogs.0.png']); // trunc(2.75)=2, trunc(1.5)=1
    assert.equal(train.size + val.size, 17);
    assert.ok(train.filenames.every((f) => !val.filenames.includes(f)));
    assert.equal(val.description, 'Found 3 images belonging to 2 classes.');
  });

  it('creates no tensors except the yielded ones, also when the consumer stops early', async () => {
    const data = await imageFolder(tree.root, {
      targetSize: [8, 8],
      batchSize: 3,
      prefetch: 3,
      zoomRange: 0.2,
    });
    const before = tf.memory().numTensors;
    for await (const { xs, ys } of data.batches(0)) {
      assert.equal(tf.memory().numTensors, before + 2);
      tf.dispose([xs, ys]);
    }
    for await (const { xs, ys } of data.batches(1)) {
      tf.dispose([xs, ys]);
      break; // batches 1..3 were loading ahead
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(tf.memory().numTensors, before);
  });

  it('prefetch keeps batches loading ahead and stats() counts the time spent waiting', async () => {
    const own = await makeTree(classFiles({ a: 8, b: 8 }));
    try {
      const opts = { targetSize: [8, 8] as [number, number], batchSize: 4, prefetch: 2, seed: 3, workers: 0 };
      const expected = await collect(await imageFolder(own.root, opts), 0);
      const data = await imageFolder(own.root, opts);
      const it = data.batches(0)[Symbol.asyncIterator]();
      const first = (await it.next()).value as LabelledBatch;
      tf.dispose([first.xs, first.ys]);
      assert.ok(data.stats().waitMs > 0, 'the first batch was waited for');
      await new Promise((r) => setTimeout(r, 1000)); // "training": batches 1 and 2 load meanwhile
      // With the files gone, only the `prefetch` batches loaded ahead can still be yielded.
      await rm(join(own.root, 'a'), { recursive: true });
      await rm(join(own.root, 'b'), { recursive: true });
      for (const i of [1, 2]) {
        const { xs, ys } = (await it.next()).value as LabelledBatch;
        assert.deepEqual(xs.dataSync(), expected.xs[i], `batch ${i} was loaded ahead`);
        assert.deepEqual([...ys.dataSync()], expected.ys[i]);
        tf.dispose([xs, ys]);
      }
      await assert.rejects(it.next(), /cannot load image/, 'batch 3 was not loaded ahead');
      const stats = data.stats();
      assert.equal(stats.batches, 3);
      assert.equal(stats.images, 12);
    } finally {
      await own.cleanup();
    }
  });

  it("the next epoch's first batches load while the last ones of this epoch are consumed", async () => {
    const own = await makeTree(classFiles({ a: 6, b: 6 }));
    try {
      const opts = {
        targetSize: [8, 8] as [number, number],
        batchSize: 2,
        prefetch: 2,
        seed: 5,
        workers: 0,
        zoomRange: 0.3,
      };
      const expected = await collect(await imageFolder(own.root, opts), 1);
      const data = await imageFolder(own.root, opts);
      const before = tf.memory().numTensors;
      await collect(data, 0);
      await new Promise((r) => setTimeout(r, 200)); // validation, callbacks…
      assert.equal(tf.memory().numTensors, before); // loaded ahead as plain arrays only
      // With the files gone, only what was loaded ahead can still be yielded.
      await rm(join(own.root, 'a'), { recursive: true });
      await rm(join(own.root, 'b'), { recursive: true });
      const got: { xs: Float32Array; ys: number[] }[] = [];
      await assert.rejects(async () => {
        for await (const { xs, ys } of data.batches(1)) {
          got.push({ xs: xs.dataSync() as Float32Array, ys: [...ys.dataSync()] });
          tf.dispose([xs, ys]);
        }
      }, /cannot load image/);
      assert.equal(got.length, 2);
      assert.deepEqual(
        got.map((g) => g.xs),
        expected.xs.slice(0, 2),
      );
      assert.deepEqual(
        got.map((g) => g.ys),
        expected.ys.slice(0, 2),
      );
    } finally {
      await own.cleanup();
    }
  });

  it('the event loop stays free while batches load in workers', async () => {
    const big = await makeTree(classFiles({ a: 24, b: 24 }, { width: 300, height: 220 }));
    try {
      const data = await imageFolder(big.root, {
        targetSize: [128, 128],
        batchSize: 16,
        rotationRange: 30,
        zoomRange: 0.3,
        workers: 1,
        prefetch: 2,
      });
      let maxGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 2);
      for await (const { xs, ys } of data.batches(0)) tf.dispose([xs, ys]);
      clearInterval(timer);
      await data.close();
      // A sanity bound (scheduling noise on a loaded 2-core box included): the per-pixel work runs
      // in the worker, the main thread only turns finished arrays into tensors.
      assert.ok(maxGap < 150, `longest event-loop stall ${maxGap.toFixed(1)} ms`);
    } finally {
      await big.cleanup();
    }
  });
});
