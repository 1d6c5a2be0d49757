import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { adam, registerWasmTrainingKernels, useBestBackend } from '@rxfit/backend';
import { rng, values, worstRelativeDiff } from './oracle.js';

before(async () => {
  const info = await useBestBackend({ env: {} });
  assert.equal(info.name, 'wasm');
});

/** Sizes with SIMD tails (not multiples of 4 or 8), 2-D shapes and one split across threads. */
const SHAPES: readonly number[][] = [[1], [3], [7], [17], [33, 7], [1000], [300_001], [4, 4, 3, 8]];
const STEPS = 5;

let runs = 0;

interface AdamRun {
  /** Each variable's values after the steps. */
  readonly weights: Float32Array[];
  /** The optimizer's weights: iterations, then every m, then every v. */
  readonly state: { name: string; values: Float32Array }[];
}

/**
 * Seeded variables of {@link SHAPES}, `steps` updates with seeded gradients by the optimizer
 * `make` returns, on `backend`. `from` continues another run: its variables' values and the
 * optimizer's weights (through `setWeights`). Checks that no tensor is left behind once the
 * slots exist.
 */
async function run(
  backend: string,
  make: () => tf.Optimizer,
  options: { steps?: number; seed?: number; from?: AdamRun; asList?: boolean } = {},
): Promise<AdamRun> {
  const { steps = STEPS, seed = 1, from, asList = false } = options;
  await tf.setBackend(backend);
  const r = rng(seed);
  const tag = `adam_test_${runs++}`;
  // tf.tidy frees the initial tensors: each variable alone holds its buffer, as in a model.
  const variables = SHAPES.map((shape, k) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(from?.weights[k] ?? values(r, shape), shape),
        true,
        `${tag}/${k}/kernel`,
      ),
    ),
  );
  const optimizer = make();
  if (from) {
    await optimizer.setWeights(
      from.state.map(({ name, values: v }, k) => ({
        name,
        tensor: k === 0 ? tf.scalar(v[0]!, 'int32') : tf.tensor(v, SHAPES[(k - 1) % SHAPES.length]),
      })),
    );
  }
  let settled = -1;
  for (let step = 0; step < steps; step++) {
    // Gradients of a wide range, from seeds that do not depend on the run being continued.
    const gr = rng(seed * 1000 + step + (from ? 100 : 0));
    const grads = variables.map((v, k) =>
      tf.tensor(
        values(gr, v.shape).map((x) => x * 10 ** ((k % 3) - 1)),
        v.shape,
      ),
    );
    optimizer.applyGradients(
      asList
        ? variables.map((v, k) => ({ name: v.name, tensor: grads[k]! }))
        : Object.fromEntries(variables.map((v, k) => [v.name, grads[k]!])),
    );
    tf.dispose(grads);
    // The first step creates the slots (two per variable); from then on nothing may pile up.
    if (step === 1) settled = tf.memory().numTensors;
    if (step > 1) assert.equal(tf.memory().numTensors, settled, `${backend}: tensors leaked`);
  }
  const weights = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const state = await Promise.all(
    (await optimizer.getWeights()).map(async ({ name, tensor }) => ({
      name: name.replace(tag, 'run'),
      values: Float32Array.from(await tensor.data()),
    })),
  );
  tf.dispose(variables);
  optimizer.dispose();
  return { weights, state };
}

/** Largest difference relative to max(1, |expected|); also checks the names and sizes. */
function worstDiff(actual: AdamRun, expected: AdamRun): number {
  assert.deepEqual(
    actual.state.map((s) => s.name),
    expected.state.map((s) => s.name),
  );
  const all = (x: AdamRun) => [...x.weights, ...x.state.map((s) => s.values)];
  return worstRelativeDiff(all(actual), all(expected));
}

/** Reads `t`'s buffer identity: the fused update writes a variable in place, tfjs' assigns. */
function dataIdAfterStep(optimizer: tf.Optimizer): { same: boolean } {
  const w = tf.tidy(() => tf.variable(tf.ones([64]), true, `adam_test_${runs++}/id`));
  const id = w.dataId;
  const g = tf.ones([64]);
  optimizer.applyGradients([{ name: w.name, tensor: g }]);
  const same = w.dataId === id;
  tf.dispose([w, g]);
  optimizer.dispose();
  return { same };
}

describe('adam(): the fused Adam update on wasm against tfjs Adam on cpu', () => {
  test(`${STEPS} steps on seeded variables of ${SHAPES.length} shapes (SIMD tails, one split across threads): weights, m and v match`, async () => {
    const expected = await run('cpu', () => tf.train.adam(0.01));
    for (const asList of [false, true]) {
      const actual = await run('wasm', () => adam(0.01), { asList });
      const worst = worstDiff(actual, expected);
      assert.ok(worst <= 1e-6, `relative difference ${worst} (asList ${asList})`);
    }
  });

  test('other hyper-parameters and tfjs defaults (learning rate, betas, epsilon given and not)', async () => {
    for (const args of [[], [0.1, 0.5, 0.75, 1e-3], [3e-4, 0.95, 0.9999, undefined]] as const) {
      const expected = await run('cpu', () => tf.train.adam(...args), { seed: 7 });
      const actual = await run('wasm', () => adam(...args), { seed: 7 });
      const worst = worstDiff(actual, expected);
      assert.ok(worst <= 1e-6, `relative difference ${worst} for ${JSON.stringify(args)}`);
    }
  });

  test('getWeights/setWeights: a new optimizer continues from saved weights like tfjs does, iterations included', async () => {
    const first = await run('wasm', () => adam(0.02), { steps: 3, seed: 3 });
    assert.equal(first.state[0]!.name, 'iter');
    assert.deepEqual([...first.state[0]!.values], [3]);
    assert.equal(first.state.length, 1 + 2 * SHAPES.length);
    assert.match(first.state[1]!.name, /^run\/0\/kernel\/m$/);
    assert.match(first.state[1 + SHAPES.length]!.name, /^run\/0\/kernel\/v$/);
    const expectedFirst = await run('cpu', () => tf.train.adam(0.02), { steps: 3, seed: 3 });
    assert.ok(worstDiff(first, expectedFirst) <= 1e-6);
    // Continued on wasm by adam(), and on cpu by tfjs' Adam, from the same saved state.
    const resumed = await run('wasm', () => adam(0.02), { steps: 2, seed: 3, from: first });
    const expected = await run('cpu', () => tf.train.adam(0.02), {
      steps: 2,
      seed: 3,
      from: first,
    });
    assert.deepEqual([...resumed.state[0]!.values], [5]);
    const worst = worstDiff(resumed, expected);
    assert.ok(worst <= 1e-6, `relative difference ${worst}`);
  });

  test('tensors that share a buffer with a variable or a slot keep their values (setWeights inputs, clones)', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]), true, `adam_test_${runs++}/shared`);
    const optimizer = adam(0.1);
    const m = tf.tensor1d([0.5, 0.5, 0.5, 0.5, 0.5]);
    const v = tf.tensor1d([0.25, 0.25, 0.25, 0.25, 0.25]);
    await optimizer.setWeights([
      { name: 'iter', tensor: tf.scalar(2, 'int32') },
      { name: `${w.name}/m`, tensor: m },
      { name: `${w.name}/v`, tensor: v },
    ]);
    const clone = tf.clone(w);
    const g = tf.tensor1d([1, -1, 0, 2, -2]);
    optimizer.applyGradients([{ name: w.name, tensor: g }]);
    assert.deepEqual([...(await clone.data())], [1, 2, 3, 4, 5]);
    assert.deepEqual([...(await m.data())], [0.5, 0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual([...(await v.data())], [0.25, 0.25, 0.25, 0.25, 0.25]);
    assert.notDeepEqual([...(await w.data())], [1, 2, 3, 4, 5]);
    // The same step by tfjs' Adam on cpu.
    const after = Float32Array.from(await w.data());
    await tf.setBackend('cpu');
    const wc = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]), true, `adam_test_${runs++}/shared`);
    const reference = tf.train.adam(0.1);
    await reference.setWeights([
      { name: 'iter', tensor: tf.scalar(2, 'int32') },
      { name: `${wc.name}/m`, tensor: tf.tensor1d([0.5, 0.5, 0.5, 0.5, 0.5]) },
      { name: `${wc.name}/v`, tensor: tf.tensor1d([0.25, 0.25, 0.25, 0.25, 0.25]) },
    ]);
    const gc = tf.tensor1d([1, -1, 0, 2, -2]);
    reference.applyGradients([{ name: wc.name, tensor: gc }]);
    assert.deepEqual([...after], [...(await wc.data())]);
    tf.dispose([wc, gc]);
    reference.dispose();
    await tf.setBackend('wasm');
    tf.dispose([w, m, v, clone, g]);
    optimizer.dispose();
  });

  test("fused on wasm with rxfit's native kernels (the variable is updated in place); tfjs' update on cpu and with native: false", async () => {
    await tf.setBackend('wasm');
    assert.deepEqual(dataIdAfterStep(adam()), { same: true });
    assert.deepEqual(dataIdAfterStep(tf.train.adam()), { same: false });
    try {
      registerWasmTrainingKernels({ native: false });
      assert.deepEqual(dataIdAfterStep(adam()), { same: false });
    } finally {
      registerWasmTrainingKernels();
    }
    await tf.setBackend('cpu');
    assert.deepEqual(dataIdAfterStep(adam()), { same: false });
    await tf.setBackend('wasm');
  });

  test("is a tf.AdamOptimizer named 'Adam' with tfjs' config; a model compiled with it saves and loads with plain tfjs", async () => {
    await tf.setBackend('wasm');
    const optimizer = adam(0.005, 0.8, 0.99, 1e-6);
    assert.ok(optimizer instanceof tf.AdamOptimizer);
    assert.equal(optimizer.getClassName(), 'Adam');
    const stock = tf.train.adam(0.005, 0.8, 0.99, 1e-6);
    assert.deepEqual(optimizer.getConfig(), stock.getConfig());
    stock.dispose();
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const xs = tf.tensor2d(values(rng(5), [8, 3]), [8, 3]);
    const ys = tf.tensor2d(values(rng(6), [8, 2]), [8, 2]);
    await model.fit(xs, ys, { epochs: 2, batchSize: 4 });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
    assert.ok(saved);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    assert.ok(loaded.optimizer instanceof tf.AdamOptimizer);
    assert.equal(loaded.optimizer.getClassName(), 'Adam');
    assert.deepEqual(loaded.optimizer.getConfig(), optimizer.getConfig());
    const [iterations] = await loaded.optimizer.getWeights();
    assert.deepEqual([...(await iterations!.tensor.data())], [4]);
    tf.dispose([xs, ys]);
    model.dispose();
    loaded.dispose();
  });
});
