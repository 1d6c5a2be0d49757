import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, useBestBackend } from '@rxfit/backend';
import { assertClose, rng, values } from './oracle.js';

// Captured before useBestBackend replaces it, to prove that the replacement matters.
const stockMaxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm');

before(async () => {
  const info = await useBestBackend({ env: {} });
  assert.equal(info.name, 'wasm');
});

/** conv (linear, so pooled windows are often all negative) → maxPool → dense. */
function linearConvPoolModel(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        activation: 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  // SGD, not Adam: Adam turns float noise in zero gradients into full steps.
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  return model;
}

async function weightsAfterTwoSteps(
  backend: string,
  initial: Float32Array[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const model = linearConvPoolModel();
  model.setWeights(initial.map((w, i) => tf.tensor(w, model.getWeights()[i]?.shape)));
  const r = rng(42);
  const xs = tf.tensor4d(values(r, [8, 8, 8, 3]), [8, 8, 8, 3]);
  const ys = tf.tensor2d(values(r, [8, 1]), [8, 1]);
  await model.trainOnBatch(xs, ys);
  await model.trainOnBatch(xs, ys);
  const out = model.getWeights().map((w) => w.dataSync() as Float32Array);
  tf.dispose([xs, ys]);
  model.dispose();
  return out;
}

describe('training on wasm', () => {
  test('max pooling after a LINEAR conv trains like cpu, and would not with the stock MaxPoolGrad', async (t) => {
    await tf.setBackend('cpu');
    const init = linearConvPoolModel();
    const initial = init.getWeights().map((w) => w.dataSync() as Float32Array);
    init.dispose();
    const cpu = await weightsAfterTwoSteps('cpu', initial);
    const wasm = await weightsAfterTwoSteps('wasm', initial);
    const diff = assertClose(wasm, cpu, 'weights after 2 SGD steps');

    assert.ok(stockMaxPoolGrad, 'wasm ships a MaxPoolGrad');
    await tf.setBackend('wasm');
    tf.unregisterKernel('MaxPoolGrad', 'wasm');
    tf.registerKernel(stockMaxPoolGrad);
    // useBestBackend registered ours before wasm initialised, so the stock one was never set up.
    stockMaxPoolGrad.setupFunc?.(tf.backend());
    let stock: Float32Array[];
    try {
      stock = await weightsAfterTwoSteps('wasm', initial);
    } finally {
      await tf.setBackend('wasm');
      registerWasmTrainingKernels();
    }
    const drift = Math.max(
      ...stock.flatMap((w, i) => Array.from(w, (v, j) => Math.abs(v - (cpu[i]?.[j] ?? NaN)))),
    );
    assert.ok(drift > 1e-3, `the stock kernel should be visibly wrong here, drift ${drift}`);
    t.diagnostic(
      `max |Δw| vs cpu: ${diff.toExponential(1)} replaced, ${drift.toExponential(1)} stock`,
    );
  });

  test('a small conv model (conv, separable, depthwise, pooling) runs model.fit and trainOnBatch, with no tensor leak', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 12, 3],
          filters: 6,
          kernelSize: 3,
          strides: 1,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.separableConv2d({
          filters: 8,
          kernelSize: 3,
          depthMultiplier: 2,
          activation: 'tanh',
        }),
        tf.layers.depthwiseConv2d({ kernelSize: 2, strides: 2, padding: 'same' }),
        tf.layers.averagePooling2d({ poolSize: 1 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    });
    const r = rng(7);
    const xs = tf.tensor4d(values(r, [16, 12, 12, 3]), [16, 12, 12, 3]);
    const ys = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => i % 2),
      [16, 1],
    );
    const first = await model.fit(xs, ys, { epochs: 1, batchSize: 8 });
    const tensors = tf.memory().numTensors;
    const h = await model.fit(xs, ys, { epochs: 3, batchSize: 8 });
    assert.equal(tf.memory().numTensors, tensors, 'fit leaks no tensors');
    const losses = [...(first.history['loss'] as number[]), ...(h.history['loss'] as number[])];
    assert.ok(losses.every(Number.isFinite), `finite losses ${losses.join(', ')}`);
    assert.ok(losses[losses.length - 1]! < losses[0]!, `loss goes down: ${losses.join(', ')}`);
    const step = await model.trainOnBatch(xs, ys);
    assert.ok((Array.isArray(step) ? step : [step]).every((v) => Number.isFinite(v)));
    assert.equal(tf.memory().numTensors, tensors, 'trainOnBatch leaks no tensors');
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('an embedding model trains (UnsortedSegmentSum)', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 5 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const r = rng(9);
    const xs = tf.tensor2d(
      Array.from({ length: 40 }, () => Math.floor(r() * 20)),
      [8, 5],
      'int32',
    );
    const ys = tf.tensor2d(values(r, [8, 1]), [8, 1]);
    const before = model.getWeights()[0]!.dataSync().slice();
    const loss = await model.trainOnBatch(xs, ys);
    assert.ok(typeof loss === 'number' && Number.isFinite(loss));
    const after = model.getWeights()[0]!.dataSync();
    assert.notDeepEqual(after, before, 'the embedding table was updated');
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
