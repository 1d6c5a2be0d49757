import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { exportMnist } from '@rxfit/example-mnist-folders/export-mnist';
import { loadCheckpoint } from '@rxfit/checkpoint';
import { readEventLog } from '@rxfit/event-log';
import { readEventFile } from '@rxfit/tensorboard';
import { readdir } from 'node:fs/promises';
import { lastValueFrom, toArray } from 'rxjs';

const run = promisify(execFile);
const node = (script: string, args: string[]) =>
  run(process.execPath, ['--conditions=@rxfit/source', '--import', 'tsx', script, ...args], {
    env: { ...process.env, RXFIT_BACKEND: 'wasm' },
    maxBuffer: 16 << 20,
  });

let work: string;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'rxfit-examples-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Checks what every seed-script run leaves in its run folder. */
async function checkRunFolder(out: string, epochs: number, inputShape: number[]): Promise<void> {
  const csv = (await readFile(path.join(out, 'logfile.csv'), 'utf8')).trim().split(/\r?\n/);
  assert.deepEqual(csv[0]!.split(','), ['epoch', 'acc', 'loss', 'lr', 'val_acc', 'val_loss']);
  assert.equal(csv.length, 1 + epochs);
  assert.deepEqual(csv.slice(1).map((row) => row.split(',')[0]), [...Array(epochs).keys()].map(String));

  const events = await lastValueFrom(readEventLog(path.join(out, 'events.jsonl')).pipe(toArray()));
  events.forEach((e, i) => assert.equal(e.seq, i));
  assert.equal(events.filter((e) => e.type === 'epochEnd').length, epochs);
  assert.equal(events.at(-1)!.type, 'trainEnd');

  const model = await loadCheckpoint(path.join(out, 'best'));
  const prediction = model.predict(tf.zeros([1, ...inputShape])) as tf.Tensor;
  assert.equal(prediction.shape[0], 1);
  assert.ok(Array.from(prediction.dataSync()).every(Number.isFinite));
  tf.dispose([prediction]);
  model.dispose();

  const png = await sharp(path.join(out, 'history.png')).metadata();
  assert.equal(png.format, 'png');
  assert.ok((png.width ?? 0) > 200);
  assert.match(await readFile(path.join(out, 'history.svg'), 'utf8'), /<svg/);
}

describe('examples', () => {
  it('mnist-folders (npm start) trains on exported digit folders and leaves its run folder', async () => {
    const data = path.join(work, 'digits');
    await exportMnist(data, 0.75, 24);
    const out = path.join(work, 'mnist-run');
    const { stdout } = await node('examples/mnist-folders/src/main.ts', ['--data', data, '--epochs', '2', '--out', out]);
    const lines = stdout.split('\n');
    assert.ok(lines.includes('Found 180 images belonging to 10 classes.'), stdout);
    assert.ok(lines.includes('Found 60 images belonging to 10 classes.'), stdout);
    // Off a TTY: one clean line per epoch.
    assert.equal(lines.filter((l) => /^\d+\/\d+ \[=+\] - /.test(l)).length, 2, stdout);
    assert.match(stdout, /Best val_acc \d\.\d{4}/);
    assert.match(stdout, /Run folder: /);
    await checkRunFolder(out, 2, [28, 28, 1]);
    // TensorBoard logs in the run folder, with the CSV log's values.
    assert.match(stdout, /tensorboard {10}TensorBoard logs: tensorboard --logdir /);
    const trainDir = path.join(out, 'tensorboard', 'train');
    const [file] = await readdir(trainDir);
    const train = await readEventFile(path.join(trainDir, file!));
    const csv = (await readFile(path.join(out, 'logfile.csv'), 'utf8')).trim().split(/\r?\n/).slice(1);
    assert.deepEqual(
      train['epoch_loss']!.points.map((p) => [p.step, p.value]),
      csv.map((row) => [Number(row.split(',')[0]), Math.fround(Number(row.split(',')[2]))]),
    );
    assert.ok(Object.keys(train).some((tag) => tag.endsWith('/kernel/histogram')));
  });

  it('mnist-folders --find-lr runs the learning-rate range test and prints the suggestion and the plot', async () => {
    const data = path.join(work, 'digits');
    await exportMnist(data, 0.75, 24); // the folders of the test before, if it ran
    const out = path.join(work, 'lr-find');
    const { stdout } = await node('examples/mnist-folders/src/main.ts', ['--data', data, '--find-lr', '--out', out]);
    assert.match(stdout, /Suggested learning rate \(valley, fastai's default\): \d/);
    assert.match(stdout, /steepest \(Lightning\): \d.*, minimum \/ 10: \d/);
    assert.ok(stdout.includes(`Plot: ${path.join(out, 'lr-find.png')}`), stdout);
    const png = await sharp(path.join(out, 'lr-find.png')).metadata();
    assert.equal(png.format, 'png');
  });

  it('mnist-folders prints its help', async () => {
    const { stdout } = await node('examples/mnist-folders/src/main.ts', ['--help']);
    assert.match(stdout, /--epochs N/);
    assert.match(stdout, /--data DIR/);
    assert.match(stdout, /--out DIR/);
  });

  it('cats-vs-dogs runs the seed script on a generated Kaggle-layout tree', async () => {
    const data = path.join(work, 'cats-and-dogs');
    // Cats are bright, dogs dark: generated JPEGs with some noise so that the classes are learnable.
    for (const [split, count] of [['training_set', 12], ['test_set', 4]] as const) {
      for (const [cls, level] of [['cats', 200], ['dogs', 50]] as const) {
        const dir = path.join(data, split, split, cls);
        await mkdir(dir, { recursive: true });
        for (let i = 0; i < count; i++) {
          const pixels = Buffer.alloc(80 * 60 * 3, 0).map((_, j) => (level + ((j * 37 + i * 101) % 50)) & 255);
          await sharp(pixels, { raw: { width: 80, height: 60, channels: 3 } })
            .jpeg()
            .toFile(path.join(dir, `${cls.slice(0, -1)}.${i}.jpg`));
        }
      }
    }
    const out = path.join(work, 'cats-run');
    const { stdout } = await node('examples/cats-vs-dogs/src/main.ts', ['--data', data, '--epochs', '1', '--out', out]);
    assert.ok(stdout.includes('Found 24 images belonging to 2 classes.'), stdout);
    assert.ok(stdout.includes('Found 8 images belonging to 2 classes.'), stdout);
    await checkRunFolder(out, 1, [64, 64, 3]);
  });
});
