import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { isSoftwareAdapter, useBestBackend, type GpuAdapterInfoLike } from '@rxfit/backend';

/**
 * A Dawn module whose only adapter has the given info (or none): enough for selection, which
 * decides on the adapter before creating a device. Each call gives a new loader, so the
 * per-loader cache of the probe never mixes two of them.
 */
function dawnWith(info: GpuAdapterInfoLike | null) {
  const calls: string[] = [];
  const importModule = async (specifier: string): Promise<unknown> => {
    calls.push(specifier);
    if (specifier !== 'webgpu') throw new Error(`Cannot find package '${specifier}'`);
    return {
      globals: {},
      create: () => ({
        requestAdapter: async () =>
          info && {
            info,
            features: new Set<string>(),
            limits: {},
            requestDevice: () => Promise.reject(new Error('no device in this test')),
          },
      }),
    };
  };
  return { calls, importModule };
}

const SOFTWARE: readonly [string, GpuAdapterInfoLike][] = [
  [
    'SwiftShader (Chromium), fallback flag',
    { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true },
  ],
  [
    'SwiftShader without the flag',
    { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' },
  ],
  [
    'Mesa lavapipe',
    { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
  ],
  ['lavapipe by name', { vendor: '', device: 'lavapipe' }],
  [
    'Microsoft Basic Render Driver (WARP)',
    { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' },
  ],
  ['a CPU adapter type', { vendor: 'acme', architecture: 'x', adapterType: 'cpu' }],
];

const HARDWARE: readonly [string, GpuAdapterInfoLike][] = [
  [
    'NVIDIA',
    {
      vendor: 'nvidia',
      architecture: 'ampere',
      description: 'NVIDIA GeForce RTX 3080',
      isFallbackAdapter: false,
    },
  ],
  ['AMD', { vendor: 'amd', architecture: 'rdna-3' }],
  ['Intel', { vendor: 'intel', architecture: 'gen-12lp', adapterType: 'integrated-gpu' }],
  ['Apple', { vendor: 'apple', architecture: 'metal-3' }],
];

describe('webgpu selection', () => {
  for (const [name, info] of SOFTWARE) {
    test(`${name} is a software adapter, never picked by itself (also not by prefer)`, async () => {
      assert.equal(isSoftwareAdapter(info), true);
      for (const prefer of [undefined, 'webgpu'] as const) {
        const dawn = dawnWith(info);
        const result = await useBestBackend({
          env: {},
          importModule: dawn.importModule,
          ...(prefer ? { prefer } : {}),
        });
        assert.equal(result.name, 'wasm');
        const skipped = result.skipped.find((s) => s.name === 'webgpu');
        assert.match(
          skipped?.reason ?? '',
          /Dawn's adapter is a software one .*RXFIT_BACKEND=webgpu forces it/,
        );
        // Refused before anything was registered with tfjs.
        assert.equal(tf.findBackendFactory('webgpu'), null);
      }
    });
  }

  for (const [name, info] of HARDWARE) {
    test(`${name} is a hardware adapter`, () => {
      assert.equal(isSoftwareAdapter(info), false);
    });
  }

  test('no adapter (no driver) is skipped with the reason', async () => {
    const result = await useBestBackend({ env: {}, importModule: dawnWith(null).importModule });
    assert.equal(result.name, 'wasm');
    assert.match(
      result.skipped.find((s) => s.name === 'webgpu')?.reason ?? '',
      /Dawn found no GPU adapter/,
    );
  });

  test('RXFIT_BACKEND=webgpu without an adapter fails clearly instead of falling back', async () => {
    await assert.rejects(
      useBestBackend({
        env: { RXFIT_BACKEND: 'webgpu' },
        importModule: dawnWith(null).importModule,
      }),
      /RXFIT_BACKEND=webgpu was requested but cannot be used: Dawn found no GPU adapter/,
    );
  });

  test('a hardware adapter is tried after @tensorflow/tfjs-node-gpu and before @tensorflow/tfjs-node', async () => {
    const dawn = dawnWith({ vendor: 'nvidia', architecture: 'ampere' });
    const result = await useBestBackend({ env: {}, importModule: dawn.importModule });
    // The stand-in adapter has no device to give: activation fails after the adapter passed.
    assert.deepEqual(dawn.calls, ['@tensorflow/tfjs-node-gpu', 'webgpu', '@tensorflow/tfjs-node']);
    assert.equal(result.skipped[1]?.name, 'webgpu');
    assert.doesNotMatch(result.skipped[1]?.reason ?? '', /software/);
    tf.removeBackend('webgpu');
  });
});
