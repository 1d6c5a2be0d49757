/**
 * Child process of `wasm-threads.test.ts`, run as
 *   node --conditions=@rxfit/source --import tsx packages/backend/test/wasm-threads-child.ts <threads|default|env>
 *
 * Picks wasm with `threads`, runs one deterministic conv training step and prints one JSON line
 * (`{"threads":…,"globalsRestored":…,"loss":…,"values":[…]}`). Then it simply returns: the
 * parent checks that the process exits by itself. (`bench/wasm-threads.ts` measures speed.)
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from '@rxfit/backend';

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
 * weights. Large enough that every native kernel it reaches (thin Conv2D, Step, the bias
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

const step = convStep();
console.log(
  JSON.stringify({
    name: info.name,
    threads: info.threads,
    getThreadsCount: wasm.getThreadsCount(),
    globalsRestored,
    ...step,
  }),
);
