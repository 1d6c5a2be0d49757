import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fileSystem, loadCheckpoint, saveModel } from '@rxfit/checkpoint';
import { crashingFileSystem, predictions, release, tempDir, tinyModel, train } from './helpers.js';

describe('fileSystem', () => {
  it('writes model.json + weights.bin that tf.loadLayersModel reads back (tfjs model.save and load)', async () => {
    const dir = join(await tempDir(), 'model');
    const model = tinyModel();
    await model.save(fileSystem(dir));
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(json['format'], 'layers-model');
    assert.deepEqual((json['weightsManifest'] as { paths: string[] }[])[0]?.paths, ['weights.bin']);
    for (const path of [dir, join(dir, 'model.json')]) {
      const loaded = await tf.loadLayersModel(fileSystem(path));
      assert.deepEqual(predictions(loaded), predictions(model));
      release(loaded);
    }
    release(model);
  });

  it('a crash at any step of a save leaves the old or the new checkpoint loadable', async () => {
    const root = await tempDir();
    const model = tinyModel();
    // Count the steps of one save over an existing checkpoint.
    const probeDir = join(root, 'probe');
    await saveModel(model, probeDir);
    const counting = crashingFileSystem(Infinity);
    await saveModel(model, probeDir, { fileSystem: counting });
    const steps = counting.calls.length;
    assert.ok(steps >= 8, `a save has ${steps} mutating steps: ${counting.calls.join(', ')}`);

    const seen = new Set<string>();
    for (let crashAt = 1; crashAt <= steps; crashAt++) {
      const target = join(root, `crash-${crashAt}`);
      const old = tinyModel();
      await saveModel(old, target);
      const fresh = tinyModel();
      await train(fresh, 1);
      await assert.rejects(
        saveModel(fresh, target, { fileSystem: crashingFileSystem(crashAt) }),
        /simulated crash/,
      );
      const loaded = await loadCheckpoint(target);
      const outputs = predictions(loaded);
      const which =
        JSON.stringify(outputs) === JSON.stringify(predictions(old))
          ? 'old'
          : JSON.stringify(outputs) === JSON.stringify(predictions(fresh))
            ? 'new'
            : 'neither';
      assert.notEqual(which, 'neither', `crash at step ${crashAt}`);
      const entries = await readdir(root);
      seen.add(`${which}${entries.includes(`crash-${crashAt}`) ? '' : ' from .old'}`);
      // The next save after a crash succeeds and leaves no temporary or .old directory behind.
      await saveModel(fresh, target);
      assert.deepEqual(
        (await readdir(root)).filter((e) => e.startsWith(`crash-${crashAt}`)),
        [`crash-${crashAt}`],
      );
      assert.deepEqual(predictions(await loadCheckpoint(target)), predictions(fresh));
      release(loaded, old, fresh);
    }
    // Every outcome happened: old intact, old only as .old (between the renames), new in place.
    assert.deepEqual([...seen].sort(), ['new', 'old', 'old from .old']);
    release(model);
  });

  it('refuses to replace a directory that holds other files, and a file', async () => {
    const root = await tempDir();
    const target = join(root, 'mine');
    await mkdir(target);
    await writeFile(join(target, 'notes.txt'), 'keep me');
    const model = tinyModel();
    await assert.rejects(
      saveModel(model, target),
      /saving checkpoint: .*mine holds files rxfit did not write \(notes\.txt\)/,
    );
    assert.equal(await readFile(join(target, 'notes.txt'), 'utf8'), 'keep me');
    await writeFile(join(root, 'file'), 'x');
    await assert.rejects(
      saveModel(model, join(root, 'file')),
      /saving checkpoint: .*file exists and is not a folder \(a regular file\)/,
    );
    release(model);
  });

  it('loading a missing checkpoint names the path', async () => {
    const root = await tempDir();
    await assert.rejects(
      loadCheckpoint(join(root, 'nothing')),
      /no checkpoint at .*nothing: it does not exist/,
    );
    await mkdir(join(root, 'empty'));
    await assert.rejects(loadCheckpoint(join(root, 'empty')), /model\.json is missing/);
  });
});
