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

/** One SGD step of conv 3x3 (8 filters) → relu → maxPool → dense, from seeded weights. */
function convStep(): { loss: number; values: number[] } {
  const x = tf.randomUniform<tf.Rank.R4>([8, 16, 16, 3], -1, 1, 'float32', 11);
  const y = tf.randomUniform([8, 1], -1, 1, 'float32', 12);
  const filter = tf.variable(tf.randomUniform<tf.Rank.R4>([3, 3, 3, 8], -0.5, 0.5, 'float32', 13));
  const dense = tf.variable(tf.randomUniform<tf.Rank.R2>([7 * 7 * 8, 1], -0.1, 0.1, 'float32', 14));
  const optimizer = tf.train.sgd(0.1);
  const lossOf = (): tf.Scalar =>
    tf.tidy(() => {
      const h = tf.maxPool(tf.relu(tf.conv2d(x, filter, 1, 'valid')), 2, 2, 'valid');
      return tf.losses.meanSquaredError(y, tf.matMul(tf.reshape(h, [8, -1]), dense));
    });
  const loss = optimizer.minimize(lossOf, true);
  const result = {
    loss: loss?.dataSync()[0] ?? NaN,
    values: [...filter.dataSync(), ...dense.dataSync()],
  };
  tf.dispose([x, y, filter, dense]);
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
