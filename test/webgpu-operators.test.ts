import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { create, globals } from 'webgpu';
import { controlOf, fit, type TrainingEvent } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { loadCheckpoint, modelCheckpoint } from '@rxfit/checkpoint';
import { earlyStopping } from '@rxfit/early-stopping';
import { backupAndRestore, resumable, RESUMED_EVENT } from '@rxfit/event-log';
import { checkAdapter } from '../packages/backend/test/webgpu-support.js';

const adapter = await checkAdapter();

/**
 * Dawn's real adapter (SwiftShader in CI) presented as an NVIDIA one: what a machine with a
 * hardware GPU shows `useBestBackend`, on an adapter that runs here.
 */
async function dawnPresentingHardware(specifier: string): Promise<unknown> {
  if (specifier !== 'webgpu') throw new Error(`Cannot find package '${specifier}'`);
  return {
    globals,
    create: (options: string[]) => {
      const gpu = create(options);
      return {
        requestAdapter: async (o?: GPURequestAdapterOptions) => {
          const real = await gpu.requestAdapter(o);
          if (!real) return null;
          const info = {
            vendor: 'nvidia',
            architecture: 'ampere',
            device: '',
            description: 'presented as hardware',
            isFallbackAdapter: false,
          };
          return new Proxy(real, {
            get: (target, key) => {
              if (key === 'info') return info;
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === 'function'
                ? (value as (...a: unknown[]) => unknown).bind(target)
                : value;
            },
          });
        },
      };
    },
  };
}

function tinyModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });
  return model;
}

function tinyData(n: number, seed: number) {
  return tf.tidy(() => {
    const xs = tf.randomNormal([n, 6, 6, 1], 0, 1, 'float32', seed);
    const noise = tf.randomNormal([n, 1], 0, 1.5, 'float32', seed + 1);
    const ys = tf.greater(xs.mean([1, 2]).add(noise), 0).toFloat();
    return { xs, ys };
  });
}

/** Counts the backend's host reads: `read` (async, what `data()` uses) and `readSync`. */
function countReads() {
  const backend = tf.backend() as unknown as Record<
    'read' | 'readSync',
    (...args: unknown[]) => unknown
  >;
  const counts = { read: 0, readSync: 0 };
  for (const key of ['read', 'readSync'] as const) {
    const original = backend[key];
    backend[key] = (...args: unknown[]) => {
      counts[key]++;
      return original.apply(backend, args);
    };
  }
  return counts;
}

async function weightsOf(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

describe(`fit and the operators on webgpu (${adapter.description})`, { skip: adapter.skip }, () => {
  test(
    'a hardware adapter is chosen by itself, and trainBegin names it',
    { timeout: 30_000 },
    async () => {
      const logs: string[] = [];
      const info = await useBestBackend({
        env: {},
        importModule: dawnPresentingHardware,
        logger: (m) => logs.push(m),
      });
      assert.equal(info.name, 'webgpu');
      assert.equal(info.reason, 'first that loaded');
      assert.deepEqual(
        [info.adapter?.vendor, info.adapter?.architecture, info.adapter?.software],
        ['nvidia', 'ampere', false],
      );
      assert.match(
        logs.at(-1)!,
        /using webgpu on nvidia ampere \(hardware, presented as hardware\)/,
      );
      const model = tinyModel();
      const data = tinyData(8, 1);
      const events = await lastValueFrom(
        fit(model, data, { epochs: 1, batchSize: 8 }).pipe(toArray()),
      );
      const begin = events.find((e) => e.type === 'trainBegin');
      assert.equal(
        begin?.type === 'trainBegin' && begin.params.backend,
        'webgpu on nvidia ampere (hardware, presented as hardware)',
      );
      tf.dispose([data.xs, data.ys]);
      model.dispose();
    },
  );

  test(
    'forced on SwiftShader: checkpoint, early stopping with restoreBestWeights, backup and resume; no sync read, one read per logged value per step',
    { timeout: 60_000 },
    async () => {
      const info = await useBestBackend({ env: { RXFIT_BACKEND: 'webgpu' } });
      assert.equal(info.adapter?.software, true);
      tf.env().set('WEBGPU_CPU_FORWARD', false); // every kernel as a shader, however small
      const counts = countReads();
      const dir = await mkdtemp(join(tmpdir(), 'rxfit-webgpu-'));
      const backup = join(dir, 'backup');
      const train = tinyData(16, 3);
      const validationData = tinyData(8, 5);
      const model = tinyModel();
      let bestWeights: number[][] | undefined;
      let bestLoss = Infinity;
      const readsPerStep: number[] = [];
      let before = 0;
      const operators =
        (failAtEpoch?: number) => (source: import('rxjs').Observable<TrainingEvent>) =>
          source.pipe(
            backupAndRestore({ dir: backup }),
            earlyStopping({ monitor: 'val_loss', patience: 1, restoreBestWeights: true }),
            modelCheckpoint({
              filepath: join(dir, 'best'),
              monitor: 'val_loss',
              saveBestOnly: true,
            }),
            tap((event: TrainingEvent) => {
              if (event.replayed) return;
              if (event.type === 'batchBegin') before = counts.read;
              if (event.type === 'batchEnd') readsPerStep.push(counts.read - before);
              // Aborted from outside (as a kill would be): the backup of the last epoch is kept.
              if (event.type === 'epochBegin' && event.epoch === failAtEpoch)
                abort.abort(new Error('killed'));
            }),
          );
      let abort = new AbortController();
      const run = (failAtEpoch?: number) => {
        abort = new AbortController();
        return lastValueFrom(
          resumable({ dir: backup, model }, (resume) =>
            fit(model, train, {
              epochs: 12,
              batchSize: 8,
              validationData,
              shuffle: false,
              signal: abort.signal,
              ...resume,
            }),
          ).pipe(
            operators(failAtEpoch),
            tap((event: TrainingEvent) => {
              // Without a log, a resumed run's early stopping starts afresh (Keras' BackupAndRestore):
              // the best epoch is the best since this run's trainBegin.
              if (event.type === 'trainBegin') bestLoss = Infinity;
              if (event.type === 'epochEnd' && event.logs['val_loss']! < bestLoss) {
                bestLoss = event.logs['val_loss']!;
                controlOf(event)?.defer(weightsOf(model).then((w) => void (bestWeights = w)));
              }
            }),
            toArray(),
          ),
        );
      };
      try {
        await assert.rejects(run(1), /killed/);
        const resumed = await run();
        const custom = resumed.find((e) => e.type === 'custom' && e.name === RESUMED_EVENT);
        assert.ok(custom, 'the second run resumed from the backup');
        const liveBegin = resumed.find((e) => e.type === 'epochBegin' && !e.replayed);
        assert.equal(liveBegin?.type === 'epochBegin' && liveBegin.epoch, 1);
        const stop = resumed.find((e) => e.type === 'stopRequested');
        assert.ok(
          stop,
          `early stopping ended the run (val_loss: ${resumed.flatMap((e) => (e.type === 'epochEnd' ? [e.logs['val_loss']] : [])).join(', ')})`,
        );
        // restoreBestWeights: the model holds the weights of the best epoch.
        assert.ok(bestWeights);
        const now = await weightsOf(model);
        now.forEach((w, i) =>
          w.forEach((v, j) => assert.ok(Math.abs(v - bestWeights![i]![j]!) < 1e-6)),
        );
        // The best checkpoint loads, with those weights.
        const loaded = await loadCheckpoint(join(dir, 'best'));
        const loadedWeights = await weightsOf(loaded);
        loadedWeights.forEach((w, i) =>
          w.forEach((v, j) => assert.ok(Math.abs(v - bestWeights![i]![j]!) < 1e-6)),
        );
        loaded.dispose();
        assert.equal(counts.readSync, 0, 'no synchronous read from the GPU');
        // loss and acc for batchEnd: one read each, nothing else during a step.
        assert.ok(readsPerStep.length >= 6);
        assert.deepEqual(new Set(readsPerStep), new Set([model.metricsNames.length]));
      } finally {
        tf.dispose([train.xs, train.ys, validationData.xs, validationData.ys]);
        model.dispose();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
