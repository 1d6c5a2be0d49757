// Parity with real Keras 3.15 outputs (test/fixtures/keras-image, see its README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { applyTransform, imageFolder, KERAS_EXTENSIONS, loadImage, type ColorMode, type FillMode, type Interpolation, type TransformParams } from '@rxfit/image-folder';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'keras-image');
const TREE = join(FIXTURES, 'directory', 'train');

interface KerasCase {
  name: string;
  image: string;
  target_size: [number, number];
  color_mode: ColorMode;
  interpolation: Interpolation;
  fill_mode: FillMode;
  cval: number;
  transform_parameters: Record<string, number | boolean | null>;
  loaded: string;
  loaded_shape: [number, number, number];
  output: string;
  shape: [number, number, number];
}

const CASES = (
  JSON.parse(readFileSync(join(FIXTURES, 'transforms.json'), 'utf8')) as { cases: KerasCase[] }
).cases;
interface KerasLabels {
  found_message: string;
  class_indices: Record<string, number>;
  dtype: string;
  y_batch_shapes: number[][];
  y: number[] | number[][];
}
interface KerasSubset {
  found_message: string;
  filenames: string[];
  classes: number[];
  len: number;
  batch_sizes: number[];
}
interface KerasDirectory {
  found_message: string;
  samples: number;
  class_indices: Record<string, number>;
  filenames: string[];
  classes: number[];
  batches: { len: number; batch_sizes: number[] };
  labels: Record<'categorical' | 'sparse' | 'binary_all_classes' | 'binary', KerasLabels>;
  validation_split: Record<'training' | 'validation', KerasSubset>;
  pixels: { file: string };
}
const DIR = JSON.parse(readFileSync(join(FIXTURES, 'directory.json'), 'utf8')) as KerasDirectory;

function readF32(file: string): Float32Array {
  const buf = readFileSync(join(FIXTURES, file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function params(p: KerasCase['transform_parameters']): TransformParams {
  return {
    theta: p.theta as number,
    tx: p.tx as number,
    ty: p.ty as number,
    shear: p.shear as number,
    zx: p.zx as number,
    zy: p.zy as number,
    flipHorizontal: p.flip_horizontal as boolean,
    flipVertical: p.flip_vertical as boolean,
    channelShiftIntensity: p.channel_shift_intensity as number | null,
    brightness: p.brightness as number | null,
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('Keras 3.15 fixtures: per-image pipeline', () => {
  assert.equal(CASES.length, 21);
  for (const c of CASES) {
    it(`${c.name}: applyTransform on Keras' loaded array matches Keras' output`, () => {
      const [h, w, ch] = c.loaded_shape;
      const data = new Uint8Array(readFileSync(join(FIXTURES, c.loaded)));
      const out = applyTransform(
        { data, height: h, width: w, channels: ch },
        params(c.transform_parameters),
        {
          fillMode: c.fill_mode,
          cval: c.cval,
          rescale: 1 / 255,
        },
      );
      // Exact in practice; the contract is 1e-4.
      assert.ok(maxDiff(out, readF32(c.output)) <= 1e-4);
    });
    it(`${c.name}: decode + resize (sharp + Pillow rules) matches Keras' load_img`, async () => {
      const img = await loadImage(join(FIXTURES, c.image), {
        targetSize: c.target_size,
        colorMode: c.color_mode,
        interpolation: c.interpolation,
      });
      assert.deepEqual([img.height, img.width, img.channels], c.loaded_shape);
      assert.equal(maxDiff(img.data, new Uint8Array(readFileSync(join(FIXTURES, c.loaded)))), 0);
      const out = applyTransform(img, params(c.transform_parameters), {
        fillMode: c.fill_mode,
        cval: c.cval,
        rescale: 1 / 255,
      });
      assert.ok(maxDiff(out, readF32(c.output)) <= 1e-4);
    });
  }
});

describe('Keras 3.15 fixtures: flow_from_directory listing (directory.json)', () => {
  const base = {
    targetSize: [12, 16] as [number, number],
    batchSize: 4,
    shuffle: false,
    rescale: 1 / 255,
    extensions: KERAS_EXTENSIONS,
    allowEmptyClasses: true,
    workers: 0,
  };

  it('lists the same classes, files, labels and message', async () => {
    const lines: string[] = [];
    const data = await imageFolder(TREE, { ...base, logger: (l) => lines.push(l) });
    assert.equal(data.description, DIR.found_message);
    assert.deepEqual(lines, [DIR.found_message]);
    assert.deepEqual(data.classIndices, DIR.class_indices);
    assert.deepEqual(data.filenames, DIR.filenames);
    assert.deepEqual([...data.classes], DIR.classes);
    assert.equal(data.size, DIR.samples);
    assert.equal(data.batchesPerEpoch, DIR.batches.len);
  });

  for (const mode of ['categorical', 'sparse', 'binary_all_classes', 'binary'] as const) {
    it(`classMode ${mode}: batches, label values, dtype and shapes as Keras`, async () => {
      const expected = DIR.labels[mode];
      const classMode = mode === 'binary_all_classes' ? 'binary' : mode;
      const warnings: string[] = [];
      const data = await imageFolder(TREE, {
        ...base,
        classMode,
        ...(mode === 'binary' ? { classes: ['cats', 'dogs'] } : {}),
        onWarning: (w) => warnings.push(w),
      });
      assert.equal(data.description, expected.found_message);
      assert.deepEqual(data.classIndices, expected.class_indices);
      assert.equal(warnings.length, mode === 'binary_all_classes' ? 1 : 0); // Keras is silent; we warn
      const ys: unknown[] = [];
      const shapes: number[][] = [];
      for await (const b of data.batches(0)) {
        shapes.push(b.ys.shape);
        assert.equal(b.ys.dtype, expected.dtype);
        assert.equal(b.xs.dtype, 'float32');
        ys.push(...(b.ys.arraySync() as unknown[]));
        tf.dispose([b.xs, b.ys]);
      }
      assert.deepEqual(shapes, expected.y_batch_shapes);
      assert.deepEqual(ys, expected.y);
    });
  }

  it('yields the same pixels as flow_from_directory (outputs/directory-train-12x16.f32)', async () => {
    const data = await imageFolder(TREE, base);
    const parts: Float32Array[] = [];
    const sizes: number[] = [];
    for await (const b of data.batches(0)) {
      assert.deepEqual(b.xs.shape.slice(1), [12, 16, 3]);
      sizes.push(b.xs.shape[0]);
      parts.push(b.xs.dataSync() as Float32Array);
      tf.dispose([b.xs, b.ys]);
    }
    assert.deepEqual(sizes, DIR.batches.batch_sizes);
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
    assert.equal(maxDiff(all, readF32(DIR.pixels.file)), 0);
  });

  for (const subset of ['training', 'validation'] as const) {
    it(`validationSplit 0.4, subset ${subset}: same files, classes and batch sizes`, async () => {
      const expected = DIR.validation_split[subset];
      const data = await imageFolder(TREE, { ...base, validationSplit: 0.4, subset });
      assert.equal(data.description, expected.found_message);
      assert.deepEqual(data.filenames, expected.filenames);
      assert.deepEqual([...data.classes], expected.classes);
      assert.equal(data.batchesPerEpoch, expected.len);
      const sizes: number[] = [];
      for await (const b of data.batches(0)) {
        sizes.push(b.xs.shape[0]);
        tf.dispose([b.xs, b.ys]);
      }
      assert.deepEqual(sizes, expected.batch_sizes);
    });
  }

  it('with the default extensions GIF is listed too, and the empty hidden class is an error', async () => {
    await assert.rejects(
      imageFolder(TREE, { workers: 0 }),
      /\.ipynb_checkpoints.*contains no images/,
    );
    const data = await imageFolder(TREE, { workers: 0, allowEmptyClasses: true });
    assert.ok(data.filenames.includes('zebras/zebra.3.gif'));
    assert.equal(data.size, DIR.samples + 1);
  });
});
