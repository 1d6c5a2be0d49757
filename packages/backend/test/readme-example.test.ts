import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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

it("the README's API table names every export of the package", async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const table = readme.slice(
    readme.indexOf('## API\n'),
    readme.indexOf('\n## ', readme.indexOf('## API\n') + 1),
  );
  const named = new Set([...table.matchAll(/`([A-Za-z_]+)[`(]/g)].map((m) => m[1]!));
  const exported = Object.keys(await import('@rxfit/backend'));
  assert.deepEqual(
    exported.filter((name) => !named.has(name)),
    [],
    'exports missing from the API table',
  );
  assert.deepEqual(
    [...named].filter((name) => /^[a-z]/.test(name) && !exported.includes(name)),
    [],
    'functions in the API table that the package does not export',
  );
});
