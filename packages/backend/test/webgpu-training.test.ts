import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from '@rxfit/backend';
import { checkAdapter } from './webgpu-support.js';

const adapter = await checkAdapter();

/** conv → max-pool → conv → flatten → dense: every layer kind of the seed CNN, tiny. */
function tinyCnn(optimizer: tf.Optimizer): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'linear' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['acc'] });
  return model;
}

interface Arrays {
  readonly weights: { values: Float32Array; shape: number[] }[];
  readonly xs: Float32Array;
  readonly ys: Float32Array;
}

const BATCH = 6;
const STEPS = 3;

/** Initial weights and data, made once on cpu and copied to each backend. */
async function makeArrays(): Promise<Arrays> {
  await tf.setBackend('cpu');
  const model = tinyCnn(tf.train.sgd(0.1));
  const weights = await Promise.all(
    model
      .getWeights()
      .map(async (w) => ({ values: (await w.data()) as Float32Array, shape: w.shape })),
  );
  model.dispose();
  const xs = tf.randomNormal([BATCH, 8, 8, 2], 0, 1, 'float32', 3);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat();
  const out = {
    weights,
    xs: (await xs.data()) as Float32Array,
    ys: (await ys.data()) as Float32Array,
  };
  tf.dispose([xs, ys]);
  return out;
}

let shadersRun = 0;

/** STEPS trainOnBatch steps on the active backend from the same start; the weights after them. */
async function train(arrays: Arrays, optimizer: () => tf.Optimizer): Promise<Float32Array[]> {
  const backend = tf.backend() as unknown as { runWebGPUProgram?: (...args: unknown[]) => unknown };
  const run = backend.runWebGPUProgram;
  if (run && !Object.hasOwn(backend, 'runWebGPUProgram')) {
    backend.runWebGPUProgram = (...args: unknown[]) => {
      shadersRun++;
      return run.apply(backend, args);
    };
  }
  const model = tinyCnn(optimizer());
  model.setWeights(arrays.weights.map((w) => tf.tensor(w.values, w.shape)));
  const xs = tf.tensor4d(arrays.xs, [BATCH, 8, 8, 2]);
  const ys = tf.tensor2d(arrays.ys, [BATCH, 3]);
  for (let i = 0; i < STEPS; i++) await model.trainOnBatch(xs, ys);
  const weights = await Promise.all(
    model.getWeights().map(async (w) => (await w.data()) as Float32Array),
  );
  tf.dispose([xs, ys]);
  model.dispose();
  return weights;
}

function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((values, i) =>
    values.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))),
  );
  return max;
}

describe(`webgpu on Dawn's adapter (${adapter.description})`, { skip: adapter.skip }, () => {
  let arrays: Arrays;
  before(async () => {
    arrays = await makeArrays();
  });

  for (const [name, optimizer] of [
    ['SGD', () => tf.train.sgd(0.1)],
    ['Adam', () => tf.train.adam(0.01)],
  ] as const) {
    test(
      `conv, max-pool and dense under ${name}: weights match cpu after ${STEPS} steps`,
      { timeout: 60_000 },
      async () => {
        await tf.setBackend('cpu');
        const onCpu = await train(arrays, optimizer);
        const info = await useBestBackend({ env: { RXFIT_BACKEND: 'webgpu' } });
        assert.equal(tf.getBackend(), 'webgpu');
        // tfjs runs kernels whose inputs are small and still on the host on its cpu backend
        // (WEBGPU_CPU_FORWARD, a flag the webgpu package registers); these tensors are that
        // small, so that is turned off: every kernel here runs as a shader on the adapter.
        tf.env().set('WEBGPU_CPU_FORWARD', false);
        assert.equal(info.adapter?.software, true, 'CI runs on SwiftShader, a software adapter');
        const onGpu = await train(arrays, optimizer);
        assert.ok(shadersRun > 0, 'the kernels ran as shaders');
        const start = arrays.weights.map((w) => w.values);
        assert.ok(maxAbsDiff(onCpu, start) > 1e-3, 'the steps changed the weights');
        const diff = maxAbsDiff(onGpu, onCpu);
        assert.ok(diff < 1e-5, `max |webgpu - cpu| = ${diff}`);
      },
    );
  }
});
