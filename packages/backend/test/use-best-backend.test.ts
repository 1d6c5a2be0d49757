import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, useBestBackend } from '@rxfit/backend';

// Read before any test runs: importing the package must not register the wasm backend.
const wasmRegisteredByImport = tf.engine().registryFactory['wasm'] != null;

/** Stands in for the native backend: selection only needs it to initialise. */
class FakeNativeBackend extends tf.KernelBackend {
  override dispose(): void {}
}

function fakeNative(installed: readonly string[], registers = true) {
  const calls: string[] = [];
  const importModule = async (specifier: string): Promise<unknown> => {
    calls.push(specifier);
    if (!installed.includes(specifier)) throw new Error(`Cannot find package '${specifier}'`);
    if (registers) tf.registerBackend('tensorflow', () => new FakeNativeBackend());
    return {};
  };
  return { calls, importModule };
}

afterEach(async () => {
  if (tf.engine().registryFactory['tensorflow'] != null) {
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
  }
});

describe('useBestBackend', () => {
  test('importing @rxfit/backend leaves the backend registry alone (wasm is imported only when chosen)', () => {
    assert.equal(wasmRegisteredByImport, false);
  });

  test('tries tensorflow-gpu, webgpu, tensorflow, wasm, cpu in that order; with nothing native installed and no hardware GPU, wasm wins', async () => {
    assert.deepEqual(BACKEND_NAMES, ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    const lines: string[] = [];
    const info = await useBestBackend({ env: {}, logger: (m) => lines.push(m) });
    assert.equal(info.name, 'wasm');
    assert.equal(info.tfBackend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(
      info.skipped.map((s) => s.name),
      ['tensorflow-gpu', 'webgpu', 'tensorflow'],
    );
    assert.match(info.skipped[0]!.reason, /@tensorflow\/tfjs-node-gpu is not installed/);
    // Dawn is installed here (a dev dependency): no adapter, or SwiftShader's (software) in CI.
    assert.match(
      info.skipped[1]!.reason,
      /Dawn found no GPU adapter|Dawn's adapter is a software one/,
    );
    assert.match(info.skipped[2]!.reason, /@tensorflow\/tfjs-node is not installed/);
    assert.deepEqual([...info.kernelsPatched].sort(), [
      'Add',
      'BatchMatMul',
      'Cast',
      'Conv2D',
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'Identity',
      'MaxPoolGrad',
      'Multiply',
      'Relu',
      'RxfitReluGrad',
      'Step',
      'Sum',
      'UnsortedSegmentSum',
      '_FusedMatMul',
    ]);
    assert.equal(info.simd, true);
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[3]!, /using wasm/);
  });

  test('is idempotent: a second call gives the same backend, re-registers without warnings, and conv gradients still work', async () => {
    const warnings: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      const a = await useBestBackend({ env: {} });
      const b = await useBestBackend({ env: {} });
      assert.equal(a.name, b.name);
      assert.deepEqual(a.kernelsPatched, b.kernelsPatched);
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(warnings, []);
    const g = tf.tidy(() =>
      tf
        .grad((f: tf.Tensor) =>
          tf.sum(tf.conv2d(tf.ones<tf.Rank.R4>([1, 4, 4, 2]), f as tf.Tensor4D, 1, 'valid')),
        )(tf.ones<tf.Rank.R4>([3, 3, 2, 1]))
        .dataSync(),
    );
    assert.deepEqual(Array.from(g), new Array(18).fill(4));
  });

  test('RXFIT_BACKEND=cpu forces cpu, from process.env by default', async () => {
    const saved = process.env['RXFIT_BACKEND'];
    process.env['RXFIT_BACKEND'] = 'cpu';
    try {
      const info = await useBestBackend();
      assert.equal(info.name, 'cpu');
      assert.equal(tf.getBackend(), 'cpu');
      assert.match(info.reason, /RXFIT_BACKEND=cpu/);
      assert.deepEqual(info.kernelsPatched, []);
    } finally {
      if (saved === undefined) delete process.env['RXFIT_BACKEND'];
      else process.env['RXFIT_BACKEND'] = saved;
    }
  });

  test('RXFIT_BACKEND beats options.prefer', async () => {
    const info = await useBestBackend({ env: { RXFIT_BACKEND: 'wasm' }, prefer: 'cpu' });
    assert.equal(info.name, 'wasm');
  });

  test('a bogus RXFIT_BACKEND value is a clear RangeError that lists the allowed names', async () => {
    await assert.rejects(useBestBackend({ env: { RXFIT_BACKEND: 'gpu' } }), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.match(
        err.message,
        /RXFIT_BACKEND="gpu" is not a backend; use one of tensorflow-gpu, webgpu, tensorflow, wasm, cpu/,
      );
      return true;
    });
  });

  test('a forced backend that cannot be loaded fails clearly instead of falling back', async () => {
    await assert.rejects(
      useBestBackend({ env: { RXFIT_BACKEND: 'tensorflow' } }),
      /RXFIT_BACKEND=tensorflow was requested but cannot be used: @tensorflow\/tfjs-node is not installed/,
    );
  });

  test('options.prefer is tried first, and validated', async () => {
    const info = await useBestBackend({ env: {}, prefer: 'cpu' });
    assert.equal(info.name, 'cpu');
    assert.equal(info.reason, 'preferred by options.prefer');
    await assert.rejects(useBestBackend({ env: {}, prefer: 'webgl' as never }), RangeError);
  });

  test('an installed @tensorflow/tfjs-node-gpu wins over everything', async () => {
    const fake = fakeNative(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    const info = await useBestBackend({ env: {}, importModule: fake.importModule });
    assert.equal(info.name, 'tensorflow-gpu');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.deepEqual(info.skipped, []);
    assert.deepEqual(fake.calls, ['@tensorflow/tfjs-node-gpu']);
  });

  test('without the gpu package, @tensorflow/tfjs-node is next', async () => {
    const fake = fakeNative(['@tensorflow/tfjs-node']);
    const info = await useBestBackend({ env: {}, importModule: fake.importModule });
    assert.equal(info.name, 'tensorflow');
    assert.deepEqual(
      info.skipped.map((s) => s.name),
      ['tensorflow-gpu', 'webgpu'],
    );
    assert.match(info.skipped[1]!.reason, /webgpu \(Dawn's Node bindings\) is not installed/);
  });

  test('a native package that loads but registers no backend here is skipped with the reason', async () => {
    const fake = fakeNative(['@tensorflow/tfjs-node'], false);
    const info = await useBestBackend({ env: {}, importModule: fake.importModule });
    assert.equal(info.name, 'wasm');
    assert.match(info.skipped[2]!.reason, /registered no 'tensorflow' backend/);
  });
});
