import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit } from '@rxfit/core';
import { remoteMonitor } from '@rxfit/remote-monitor';
import { testServer } from './server.js';

it('README usage runs against a real server, and is the README code', async () => {
  await tf.setBackend('cpu');
  const server = await testServer();
  const token = 't0k3n';
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const data = {
    xs: tf.randomNormal([20, 2], 0, 1, 'float32', 1),
    ys: tf.randomNormal([20, 1], 0, 1, 'float32', 2),
  };
  const readmeUrl = 'http://localhost:9000/publish/epoch/end/';
  {
    const url = server.url; // the test's server on 127.0.0.1 instead of `readmeUrl`
    // From the README, verbatim:
    await lastValueFrom(
      fit(model, data, { epochs: 20, validationSplit: 0.2 }).pipe(
        remoteMonitor({ url, headers: { authorization: `Bearer ${token}` } }),
      ),
    );
  }
  await server.close();
  assert.deepEqual(
    server.received.map((r) => (r.body as { epoch: number }).epoch),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.ok(server.received.every((r) => r.headers['authorization'] === 'Bearer t0k3n'));

  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const self = await readFile(new URL(import.meta.url), 'utf8');
  const usage =
    /```ts\n[\s\S]*?\nconst url = '([^']+)'.*\n(await lastValueFrom\([\s\S]*?\n\);)\n```/.exec(
      readme,
    );
  assert.ok(usage, 'the README has the usage block');
  assert.equal(usage[1], readmeUrl);
  const indented = usage[2]!
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  assert.ok(self.includes(indented), 'the code above is the README code');
  tf.dispose([data.xs, data.ys]);
  model.dispose();
});
