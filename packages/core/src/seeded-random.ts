/**
 * A source of uniform random numbers in [0, 1), as used by the augmentation and shuffling code.
 *
 * ## Example
 * ```ts
 * import { seededRandom, type Random } from '@rxfit/core/operator-kit';
 * const rng: Random = seededRandom(42, 0, 7);
 * rng(); // 0 <= value < 1
 * ```
 */
export type Random = () => number;

/** Murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function combine(h: number, value: number): number {
  return fmix32((h ^ fmix32((value >>> 0) + 0x9e3779b9)) + 0x7f4a7c15);
}

/**
 * A deterministic random stream that depends only on its arguments: `(seed, epoch, stream)`.
 *
 * Shuffling uses one stream per epoch and augmentation one stream per (epoch, file), so what an
 * epoch sees never depends on how many epochs ran before in this process (a resumed run sees the
 * same data). The generator is xoshiro128** seeded through murmur3 mixing; values carry 53 random
 * bits. It is not NumPy's MT19937: Keras and rxfit draw different numbers for the same seed.
 *
 * ## Example
 * ```ts
 * import { seededRandom } from '@rxfit/core/operator-kit';
 * const a = seededRandom(1, 3, 10)();
 * const b = seededRandom(1, 3, 10)();
 * // a === b
 * ```
 *
 * @param seed - a non-negative safe integer
 * @param epoch - the epoch (0-based)
 * @param stream - which stream of that epoch (a file index, or -1 for the shuffle)
 * @returns a function returning uniform doubles in [0, 1)
 */
export function seededRandom(seed: number, epoch: number, stream: number): Random {
  const seedLo = seed % 0x100000000;
  const seedHi = Math.floor(seed / 0x100000000);
  let h = combine(0x5eed1234, seedLo);
  h = combine(h, seedHi);
  h = combine(h, epoch);
  h = combine(h, stream);
  // splitmix-style expansion of h into the four state words (never all zero).
  let s0 = fmix32(h + 0x243f6a88);
  let s1 = fmix32(h + 0x85a308d3);
  let s2 = fmix32(h + 0x13198a2e);
  let s3 = fmix32(h + 0x03707344) | 1;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The sample order of one epoch: `0..n-1`, Fisher–Yates shuffled with the epoch's stream when
 * `shuffle` is true. Depends only on `(n, shuffle, seed, epoch)`.
 *
 * ## Example
 * ```ts
 * import { epochOrder } from '@rxfit/core/operator-kit';
 * epochOrder(5, false, 0, 0); // Int32Array [0, 1, 2, 3, 4]
 * ```
 *
 * @param n - number of samples
 * @param shuffle - whether to permute
 * @param seed - the dataset's seed
 * @param epoch - the epoch
 * @returns the indices in the order the epoch visits them
 */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const rng = seededRandom(seed, epoch, -1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
