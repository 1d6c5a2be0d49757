/**
 * Child process of `wasm-threads.test.ts`, run as
 *   node --conditions=@rxfit/source --import tsx packages/backend/test/wasm-threads-child.ts <threads|default|env>
 *
 * Picks wasm with `threads`, runs one deterministic conv training step and prints one JSON line
 * (`{"threads":…,"globalsRestored":…,"loss":…,"values":[…],"cpuDiff":{…}}`). Then it simply returns: the
 * parent checks that the process exits by itself. (`bench/wasm-threads.ts` measures speed.)
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { adam, useBestBackend } from '@rxfit/backend';
import { bitDifferences, rng, values, withSpecials, worstRelativeDiff } from './oracle.js';

// `default`: no `threads` option and an empty env; `env`: no `threads` option,
// RXFIT_WASM_THREADS read from process.env; a number: that `threads` option.
const arg = process.argv[2] ?? '1';

const before = {
  createObjectURL: URL.createObjectURL,
  cpus: os.cpus,
  worker: 'Worker' in globalThis,
};
const info = await useBestBackend(
  arg === 'env'
    ? { prefer: 'wasm' }
    : arg === 'default'
      ? { prefer: 'wasm', env: {} }
      : { prefer: 'wasm', env: {}, threads: Number(arg) },
);
const globalsRestored =
  URL.createObjectURL === before.createObjectURL &&
  os.cpus === before.cpus &&
  'Worker' in globalThis === before.worker &&
  !tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
const wasm = await import('@tensorflow/tfjs-backend-wasm');

/**
 * One SGD step of conv 3x3 (16 filters, with a bias) → relu → maxPool → dense, from seeded
 * weights. Large enough that every native kernel it reaches (direct Conv2D, Step, the bias
 * gradient's Sum, MaxPoolGrad, Conv2DBackpropFilter) splits its work across the threads.
 */
function convStep(): { loss: number; values: number[] } {
  const x = tf.randomUniform<tf.Rank.R4>([16, 32, 32, 3], -1, 1, 'float32', 11);
  const y = tf.randomUniform([16, 1], -1, 1, 'float32', 12);
  const filter = tf.variable(tf.randomUniform<tf.Rank.R4>([3, 3, 3, 16], -0.5, 0.5, 'float32', 13));
  const bias = tf.variable(tf.randomUniform([16], -0.1, 0.1, 'float32', 15));
  const dense = tf.variable(
    tf.randomUniform<tf.Rank.R2>([15 * 15 * 16, 1], -0.02, 0.02, 'float32', 14),
  );
  const optimizer = tf.train.sgd(0.1);
  const lossOf = (): tf.Scalar =>
    tf.tidy(() => {
      const conv = tf.add<tf.Tensor4D>(tf.conv2d(x, filter, 1, 'valid'), bias);
      const h = tf.maxPool(tf.relu(conv), 2, 2, 'valid');
      return tf.losses.meanSquaredError(y, tf.matMul(tf.reshape(h, [16, -1]), dense));
    });
  const loss = optimizer.minimize(lossOf, true);
  const result = {
    loss: loss?.dataSync()[0] ?? NaN,
    values: [...filter.dataSync(), ...bias.dataSync(), ...dense.dataSync()],
  };
  tf.dispose([x, y, filter, bias, dense]);
  loss?.dispose();
  optimizer.dispose();
  return result;
}

/**
 * Element-wise ops that the threaded binary splits across threads when large (same-shape and
 * bias-broadcast Multiply and Add, either side; Relu with NaN and -0), skinny products on the
 * native GEMM, and one op too small to split, reduced to values at fixed positions (1 in 997)
 * so that the parent can compare them.
 */
function elementwise(): number[] {
  return tf.tidy(() => {
    const shape: [number, number, number, number] = [8, 30, 30, 24];
    const a = tf.randomUniform(shape, -1, 1, 'float32', 21);
    const b = tf.randomUniform(shape, -1, 1, 'float32', 22);
    const bias = tf.randomUniform([24], -1, 1, 'float32', 23);
    const bias4 = tf.reshape(bias, [1, 1, 1, 24]);
    const withNaN = tf.where(tf.greater(a, 0.99), tf.fill(shape, NaN), a);
    const results = [
      tf.mul(a, b),
      tf.add(a, b),
      tf.add(a, bias),
      tf.add(bias4, a),
      tf.mul(bias, a),
      tf.relu(withNaN),
      // The fused relu gradient, split across threads on 2.
      tf.grad((t: tf.Tensor) => tf.relu(t))(withNaN, b),
      // The native GEMM splits rows across threads (transposeA: a strided read).
      tf.matMul(
        tf.reshape(a, [240, 720]),
        tf.reshape(tf.slice(b, [0, 0, 0, 0], [1, 30, 24, 24]), [720, 24]),
      ),
      tf.matMul(
        tf.reshape(a, [720, 240]),
        tf.reshape(tf.slice(b, [0, 0, 0, 0], [1, 30, 24, 24]), [720, 24]),
        true,
      ),
      tf.mul(tf.slice(a, [0, 0, 0, 0], [1, 2, 2, 24]), tf.slice(b, [0, 0, 0, 0], [1, 2, 2, 24])),
    ];
    const picked: number[] = [];
    for (const r of results) {
      const data = r.dataSync();
      for (let i = 0; i < data.length; i += 997) picked.push(data[i]!);
      picked.push(data[data.length - 1]!);
    }
    return picked;
  });
}

/**
 * The largest difference, relative to max(1, |cpu|), between wasm and the cpu backend of (adam)
 * 3 steps of `adam()` against tfjs' Adam, on a variable large enough to be split across the
 * threads and a small one, and of (conv) direct convs (32 channels) whose output rows are split
 * across the threads, at batch 1 and 4; and (reluGrad) how many values of the fused relu
 * gradient, with NaN, ±Inf, −0 and 0 in x and dy and split across the threads, differ bit for bit.
 */
async function againstCpu(): Promise<{ adam: number; conv: number; reluGrad: number }> {
  const r = rng(77);
  const sizes = [300_001, 5];
  const start = sizes.map((n) => values(r, [n]));
  const grads = [0, 1, 2].map(() => sizes.map((n) => values(r, [n])));
  const images = [1, 4].map((b) => ({ b, x: values(r, [b, 20, 20, 32]) }));
  const filter = values(r, [3, 3, 32, 32]);
  const reluShape = [4, 40, 40, 24];
  const [reluX, reluDy] = [withSpecials(r, reluShape), withSpecials(r, reluShape)];
  const compute = async (backend: string) => {
    await tf.setBackend(backend);
    const variables = start.map((v, i) =>
      tf.tidy(() => tf.variable(tf.tensor1d(v), true, `against_cpu_${backend}_${i}`)),
    );
    const optimizer = backend === 'wasm' ? adam(0.01) : tf.train.adam(0.01);
    for (const step of grads) {
      const named = variables.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(step[i]!) }));
      optimizer.applyGradients(named);
      tf.dispose(named.map((g) => g.tensor));
    }
    const adamOut = variables.map((v) => v.dataSync() as Float32Array);
    tf.dispose(variables);
    optimizer.dispose();
    const convOut = images.map(({ b, x }) =>
      tf.tidy(
        () =>
          tf
            .conv2d(tf.tensor4d(x, [b, 20, 20, 32]), tf.tensor4d(filter, [3, 3, 32, 32]), 1, 'same')
            .dataSync() as Float32Array,
      ),
    );
    const reluOut = tf.tidy(
      () =>
        tf
          .grad((t: tf.Tensor) => tf.relu(t))(
            tf.tensor(reluX, reluShape),
            tf.tensor(reluDy, reluShape),
          )
          .dataSync() as Float32Array,
    );
    return { adam: adamOut, conv: convOut, reluGrad: reluOut };
  };
  const cpu = await compute('cpu');
  const wasmOut = await compute('wasm');
  return {
    adam: worstRelativeDiff(wasmOut.adam, cpu.adam),
    conv: worstRelativeDiff(wasmOut.conv, cpu.conv),
    reluGrad: bitDifferences(wasmOut.reluGrad, cpu.reluGrad),
  };
}

const step = convStep();
const elementwiseValues = elementwise();
const cpuDiff = await againstCpu();
console.log(
  JSON.stringify({
    name: info.name,
    threads: info.threads,
    getThreadsCount: wasm.getThreadsCount(),
    globalsRestored,
    ...step,
    elementwise: elementwiseValues,
    cpuDiff,
  }),
);
