// Test helpers: seeded data and a cross-backend comparison with the cpu backend as oracle.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** mulberry32: a tiny seeded PRNG, so every case is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

/** Values in [-1, 1): half of them negative, which the stock MaxPoolGrad gets wrong. */
export function values(r: () => number, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** Runs `f` with `backend` as the active backend, returning plain arrays. */
export async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
  return data;
}

/**
 * Asserts that each value is within 1e-5 absolute or 1e-4 relative of the oracle's.
 * @returns the largest absolute difference, for reporting.
 */
export function assertClose(
  actual: Float32Array[],
  expected: Float32Array[],
  label: string,
): number {
  assert.equal(actual.length, expected.length, `${label}: number of outputs`);
  let worst = 0;
  actual.forEach((a, k) => {
    const e = expected[k] as Float32Array;
    assert.equal(a.length, e.length, `${label}: output ${k} size`);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs((a[i] as number) - (e[i] as number));
      worst = Math.max(worst, d);
      if (!(d <= 1e-5 || d <= 1e-4 * Math.abs(e[i] as number))) {
        assert.fail(`${label}: output ${k}[${i}] = ${a[i]} but cpu gives ${e[i]} (|diff| ${d})`);
      }
    }
  });
  return worst;
}

/** Computes `f` on wasm and on cpu and compares; also checks wasm keeps no data behind. */
export async function compareWithCpu(label: string, f: () => tf.Tensor[]): Promise<number> {
  await tf.setBackend('wasm');
  const ids = tf.engine().backend.numDataIds();
  const w = await on('wasm', f);
  await tf.setBackend('wasm');
  assert.equal(tf.engine().backend.numDataIds(), ids, `${label}: wasm data ids leaked`);
  const c = await on('cpu', f);
  await tf.setBackend('wasm');
  return assertClose(w, c, label);
}

/** `values` with about one entry in `every` replaced by NaN, ±Infinity, −0 or 0. */
export function withSpecials(r: () => number, shape: readonly number[], every = 6): Float32Array {
  const out = values(r, shape);
  for (let i = 0; i < out.length; i++) {
    if (r() * every < 1) out[i] = pick(r, [NaN, Infinity, -Infinity, -0, 0]);
  }
  return out;
}

/** How many entries differ bit for bit (NaN equals NaN, whatever its payload; −0 is not 0). */
export function bitDifferences(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) n++;
  }
  return n;
}

/**
 * The largest difference between matching outputs, relative to max(1, |expected|) (absolute
 * for small values); also asserts the outputs have the same sizes.
 */
export function worstRelativeDiff(
  actual: readonly Float32Array[],
  expected: readonly Float32Array[],
): number {
  assert.equal(actual.length, expected.length, 'number of outputs');
  let worst = 0;
  actual.forEach((a, k) => {
    const e = expected[k]!;
    assert.equal(a.length, e.length, `output ${k} size`);
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!)));
    }
  });
  return worst;
}
