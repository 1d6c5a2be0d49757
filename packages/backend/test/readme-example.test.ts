import assert from 'node:assert/strict';
import { it } from 'node:test';
// The README's usage example, verbatim below the setup, so the docs cannot drift.
import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from '@rxfit/backend';

it('README example runs (and picks wasm here, where no native package is installed)', async () => {
  const lines: string[] = [];
  const console = { log: (line: string) => lines.push(line) };

  const info = await useBestBackend({ logger: (msg) => console.log(msg) }); // once, at startup
  console.log(`training on ${info.name}; kernels added: ${info.kernelsPatched.join(', ')}`);

  const xs = tf.randomUniform([64, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32'), 10);

  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await model.fit(xs, ys, { epochs: 1, batchSize: 32 });

  assert.match(lines.at(-1)!, /^training on wasm; kernels added: Conv2DBackpropFilter, /);
  assert.equal(tf.getBackend(), process.env['RXFIT_BACKEND'] === 'cpu' ? 'cpu' : 'wasm');
  tf.dispose([xs, ys]);
  model.dispose();
});
