import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { test } from 'node:test';

const BANNER = /Hi, looks like you are running TensorFlow\.js in Node\.js/;

/** Runs `code` (an ES module) in a fresh Node with this repo's source resolution; its stderr. */
function stderrOf(code: string): string {
  const env = { ...process.env };
  delete env['RXFIT_BACKEND'];
  const result = spawnSync(
    process.execPath,
    ['--conditions=@rxfit/source', '--import', 'tsx', '--input-type=module', '-e', code],
    { encoding: 'utf8', env },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stderr;
}

test("tfjs' cpu banner: silent when useBestBackend chose cpu, tfjs' own behaviour otherwise", () => {
  const chosen = stderrOf(`
    import * as tf from '@tensorflow/tfjs';
    import { useBestBackend } from '@rxfit/backend';
    const info = await useBestBackend({ prefer: 'cpu', env: {} });
    if (info.name !== 'cpu') throw new Error(info.name);
    tf.scalar(1).dataSync();
  `);
  assert.doesNotMatch(chosen, BANNER);
  const byHand = stderrOf(`
    import * as tf from '@tensorflow/tfjs';
    await tf.setBackend('cpu');
    tf.scalar(1).dataSync();
  `);
  assert.match(byHand, BANNER, 'a program that sets cpu with tfjs alone still sees the banner');
});
