import { checkInteger, checkOptions, seededRandom } from '@rxfit/core/operator-kit';
import type { ParamSpec, ParamValue, Params, Space } from './space.js';

/**
 * Chooses the parameters of trial `index` (0, 1, 2, ...). A sampler is a pure function of the
 * space, its seed and the index, so a resumed sweep draws the same trials again.
 */
export interface Sampler {
  readonly name: string;
  /** The parameters of trial `index`, or `undefined` when the sampler has no more (a finished grid). */
  sample(space: Space, index: number): Params | undefined;
}

/** Options of {@link randomSampler}. */
export interface RandomSamplerOptions {
  /** Seeds every draw: trial `i` gets the same parameters in every sweep with this seed. @default 0 */
  readonly seed?: number;
}

/**
 * Random search (Bergstra and Bengio): each parameter drawn independently, uniformly on its scale.
 *
 * ## Example
 * ```ts
 * import { randomSampler } from '@rxfit/sweep';
 * const sampler = randomSampler({ seed: 7 });
 * ```
 * @param options - See {@link RandomSamplerOptions}.
 * @returns The sampler.
 * @throws RangeError for a bad seed.
 */
export function randomSampler(options: RandomSamplerOptions = {}): Sampler {
  checkOptions('randomSampler', options, ['seed']);
  const { seed = 0 } = options;
  checkInteger('randomSampler', 'seed', seed, 0);
  return {
    name: `random(seed ${String(seed)})`,
    sample(space, index) {
      const params: Record<string, ParamValue> = {};
      // One stream per (trial, parameter): adding a parameter does not change the others' draws.
      Object.keys(space).sort().forEach((name, k) => {
        params[name] = draw(space[name]!, seededRandom(seed, index, k)());
      });
      return Object.freeze(params);
    },
  };
}

function draw(spec: ParamSpec, r: number): ParamValue {
  switch (spec.kind) {
    case 'choice':
      return spec.values[Math.floor(r * spec.values.length)]!;
    case 'uniform':
      return spec.low + r * (spec.high - spec.low);
    case 'logUniform':
      return Math.exp(Math.log(spec.low) + r * (Math.log(spec.high) - Math.log(spec.low)));
    case 'int':
      return spec.low + spec.step * Math.floor(r * (Math.floor((spec.high - spec.low) / spec.step) + 1));
  }
}

/** Options of {@link gridSampler}. */
export interface GridSamplerOptions {
  /** Points per `uniform` / `logUniform` parameter (endpoints included; log-spaced for logUniform). @default 3 */
  readonly points?: number;
  /** Visit the grid in an order shuffled by this seed (Optuna's GridSampler); without it, in order. @default undefined */
  readonly seed?: number;
}

/**
 * Grid search: every combination once. `choice` gives its values, `int` every step,
 * `uniform`/`logUniform` `points` evenly spaced values. The last parameter varies fastest.
 *
 * ## Example
 * ```ts
 * import { gridSampler } from '@rxfit/sweep';
 * const sampler = gridSampler({ points: 4, seed: 1 });
 * ```
 * @param options - See {@link GridSamplerOptions}.
 * @returns The sampler; it returns `undefined` past the last combination.
 * @throws RangeError for bad options.
 */
export function gridSampler(options: GridSamplerOptions = {}): Sampler {
  checkOptions('gridSampler', options, ['points', 'seed']);
  const { points = 3, seed } = options;
  checkInteger('gridSampler', 'points', points, 2);
  if (seed !== undefined) checkInteger('gridSampler', 'seed', seed, 0);
  const orders = new WeakMap<Space, number[]>();
  return {
    name: seed === undefined ? 'grid' : `grid(seed ${String(seed)})`,
    sample(space, index) {
      const names = Object.keys(space);
      const axes = names.map((name) => gridValues(space[name]!, points));
      const size = axes.reduce((n, axis) => n * axis.length, 1);
      if (index >= size) return undefined;
      let order = orders.get(space);
      if (!order) {
        order = Array.from({ length: size }, (_, i) => i);
        if (seed !== undefined) {
          const random = seededRandom(seed, 0, -2);
          for (let i = size - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
        }
        orders.set(space, order);
      }
      let rest = order[index]!;
      const picked: ParamValue[] = [];
      for (let k = names.length - 1; k >= 0; k--) {
        const axis = axes[k]!;
        picked[k] = axis[rest % axis.length]!;
        rest = Math.floor(rest / axis.length);
      }
      return Object.freeze(Object.fromEntries(names.map((name, k) => [name, picked[k]!])));
    },
  };
}

/** The values a grid takes along one parameter. */
function gridValues(spec: ParamSpec, points: number): readonly ParamValue[] {
  switch (spec.kind) {
    case 'choice':
      return spec.values;
    case 'int': {
      const values: number[] = [];
      for (let v = spec.low; v <= spec.high; v += spec.step) values.push(v);
      return values;
    }
    case 'uniform':
      return Array.from({ length: points }, (_, i) => spec.low + ((spec.high - spec.low) * i) / (points - 1));
    case 'logUniform': {
      const [a, b] = [Math.log(spec.low), Math.log(spec.high)];
      return Array.from({ length: points }, (_, i) => (i === 0 ? spec.low : i === points - 1 ? spec.high : Math.exp(a + ((b - a) * i) / (points - 1))));
    }
  }
}
