import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import { fit, type TrainingEvent } from '@rxfit/core';
import { loadCheckpoint, loadWeights, modelCheckpoint, saveModel } from '@rxfit/checkpoint';
import { release, tempDir, tinyData, tinyModel } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** Every probe has a bound: a hang fails the test instead of hanging CI. */
const BOUND = { timeout: 20_000 };

/** A saved checkpoint in a folder of its own, two levels below the test's folder. */
async function checkpoint(): Promise<{ root: string; path: string; json: string; weights: string }> {
  const root = await tempDir();
  const path = join(root, 'shared', 'best');
  const model = tinyModel();
  await saveModel(model, path);
  release(model);
  return { root, path, json: join(path, 'model.json'), weights: join(path, 'weights.bin') };
}

async function editJson(json: string, edit: (model: Record<string, unknown>) => unknown): Promise<void> {
  const model = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>;
  const result = edit(model);
  await writeFile(json, JSON.stringify(result === undefined ? model : result));
}

const manifestOf = (model: Record<string, unknown>) =>
  (model['weightsManifest'] as { paths: unknown; weights: unknown }[])[0]!;

describe('loadCheckpoint reads only what the checkpoint holds', () => {
  for (const entry of ['../../secret.bin', '../../../../../../etc/passwd', '/etc/passwd']) {
    it(`refuses the manifest path ${entry}, naming the file and the entry`, BOUND, async () => {
      const { root, json } = await checkpoint();
      await writeFile(join(root, 'secret.bin'), Buffer.alloc(4096, 1));
      await editJson(json, (model) => {
        manifestOf(model).paths = [entry];
      });
      await assert.rejects(
        loadCheckpoint(json.replace(/model\.json$/, '')),
        (error: Error) =>
          error.message.startsWith(`loading checkpoint ${json}: weightsManifest[0].paths[0] is refused`) &&
          error.message.includes(JSON.stringify(entry)),
      );
    });
  }

  it('refuses a weights file that is a FIFO, without waiting for a writer', BOUND, async () => {
    const { path, weights } = await checkpoint();
    await rm(weights);
    execFileSync('mkfifo', [weights]);
    await assert.rejects(loadCheckpoint(path), /weightsManifest\[0\]\.paths\[0\]: cannot read weight file .*weights\.bin: .*not a regular file \(a FIFO\)/);
  });

  it('refuses a weights file that is a link to /dev/zero, without reading it', BOUND, async () => {
    const { path, weights } = await checkpoint();
    await rm(weights);
    await symlink('/dev/zero', weights);
    await assert.rejects(loadCheckpoint(path), /cannot read weight file .*weights\.bin: .*is a symbolic link/);
    const model = tinyModel();
    await assert.rejects(loadWeights(model, path), /is a symbolic link/);
    release(model);
  });

  it('refuses a model.json that is a FIFO', BOUND, async () => {
    const { path, json } = await checkpoint();
    await rm(json);
    execFileSync('mkfifo', [json]);
    await assert.rejects(loadCheckpoint(path), /no checkpoint at .*best: its model\.json is not a regular file \(a special file\)/);
  });

  it('names the file and the group when weights.bin is truncated', BOUND, async () => {
    const { path, json, weights } = await checkpoint();
    const bytes = await readFile(weights);
    await writeFile(weights, bytes.subarray(0, bytes.length - 4));
    await assert.rejects(
      loadCheckpoint(path),
      (error: Error) =>
        error.message ===
        `loading checkpoint ${json}: weightsManifest[0]: its files (weights.bin) hold ${bytes.length - 4} bytes, its weights need ${bytes.length} (a truncated file)`,
    );
  });

  it('refuses extra bytes after the weights', BOUND, async () => {
    const { path, weights } = await checkpoint();
    await writeFile(weights, Buffer.concat([await readFile(weights), Buffer.alloc(16)]));
    await assert.rejects(loadCheckpoint(path), /weightsManifest\[0\]\.paths\[0\]: cannot read weight file .*weights\.bin has \d+ bytes, more than the \d+ expected/);
  });

  it('refuses a path listed twice', BOUND, async () => {
    const { path, json } = await checkpoint();
    await editJson(json, (model) => {
      manifestOf(model).paths = ['weights.bin', 'weights.bin'];
    });
    await assert.rejects(loadCheckpoint(path), /weightsManifest\[0\]\.paths\[1\] lists "weights\.bin" a second time/);
  });

  it('gives clear errors for null JSON and for paths given as a string', BOUND, async () => {
    const { path, json } = await checkpoint();
    await writeFile(json, 'null');
    await assert.rejects(loadCheckpoint(path), new RegExp(`loading checkpoint ${json}: not a tfjs model\\.json: expected an object, got null`));
    const other = await checkpoint();
    await editJson(other.json, (model) => {
      manifestOf(model).paths = 'weights.bin';
    });
    await assert.rejects(loadCheckpoint(other.path), /weightsManifest\[0\]\.paths must be an array of file names, got "weights\.bin"/);
  });

  it('reports an unknown optimizer as the optimizer', BOUND, async () => {
    const { path, json } = await checkpoint();
    await editJson(json, (model) => {
      (model['trainingConfig'] as { optimizer_config: { class_name: string } }).optimizer_config.class_name = 'MadeUpOptimizer';
    });
    await assert.rejects(loadCheckpoint(path), (error: Error) => {
      assert.match(error.message, /loadCheckpoint: .*best was saved with the optimizer "MadeUpOptimizer", which tfjs does not know \(known: .*Adam.*\)/);
      assert.doesNotMatch(error.message, /Unknown layer/);
      return true;
    });
  });
});

describe('modelCheckpoint checks where it writes when the run begins (issue 11, item 5)', () => {
  const run = (filepath: string, events: string[]) => {
    const model = tinyModel();
    const data = tinyData(8);
    return lastValueFrom(
      fit(model, data, { epochs: 1, batchSize: 4 }).pipe(
        modelCheckpoint({ filepath, monitor: 'loss' }),
        tap((e: TrainingEvent) => events.push(e.type)),
      ),
    ).finally(() => release(model, data.xs, data.ys));
  };

  it('fails before the first batch, naming the folder it cannot create', BOUND, async () => {
    const root = await tempDir();
    await writeFile(join(root, 'plain'), 'a file in the way');
    const events: string[] = [];
    await assert.rejects(run(join(root, 'plain', 'ckpt', '{epoch:02d}'), events), /modelCheckpoint: cannot create the folder .*plain/);
    assert.ok(!events.includes('batchBegin'), events.join(', '));
  });

  it('refuses a target folder of foreign files, and a link, before the first batch', BOUND, async () => {
    const root = await tempDir();
    await mkdir(join(root, 'work'));
    await writeFile(join(root, 'work', 'thesis.tex'), 'mine');
    const events: string[] = [];
    await assert.rejects(run(join(root, 'work'), events), /modelCheckpoint: .*work holds files rxfit did not write \(thesis\.tex\)/);
    assert.ok(!events.includes('batchBegin'));
    assert.deepEqual(await readdir(join(root, 'work')), ['thesis.tex']);
    await symlink(join(root, 'work'), join(root, 'link'));
    await assert.rejects(run(join(root, 'link'), []), /modelCheckpoint: .*link is a symbolic link/);
  });

  it('creates the folders of a fresh target', BOUND, async () => {
    const root = await tempDir();
    await run(join(root, 'a', 'b', 'best'), []);
    assert.deepEqual(await readdir(join(root, 'a', 'b', 'best')), ['model.json', 'weights.bin']);
  });
});
