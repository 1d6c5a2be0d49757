/** The suggestion rules of the anchors. */
export type SuggestionMethod = 'steepest' | 'minimum' | 'valley';

/** The methods {@link suggestLearningRates} computes. */
export const SUGGESTION_METHODS: readonly SuggestionMethod[] = Object.freeze([
  'steepest',
  'minimum',
  'valley',
]);

/** A suggested learning rate and the point of the curve it comes from. */
export interface Suggestion {
  readonly learningRate: number;
  /** The index in the sweep's `learningRates`/`losses` of the point the rule picked. */
  readonly index: number;
}

/** One suggestion per rule; a rule without enough points gives `undefined`. */
export type Suggestions = Readonly<Record<SuggestionMethod, Suggestion | undefined>>;

/**
 * `torch.gradient(y, spacing=[x])` / `numpy.gradient(y, x)`: second-order central differences
 * on an uneven grid inside, first-order differences at both ends.
 */
export function gradient(y: readonly number[], x: readonly number[]): number[] {
  const n = y.length;
  if (n < 2) return [];
  return y.map((value, i) => {
    if (i === 0) return (y[1]! - value) / (x[1]! - x[0]!);
    if (i === n - 1) return (value - y[i - 1]!) / (x[i]! - x[i - 1]!);
    const h1 = x[i]! - x[i - 1]!;
    const h2 = x[i + 1]! - x[i]!;
    return (
      (-h2 / (h1 * (h1 + h2))) * y[i - 1]! +
      ((h2 - h1) / (h1 * h2)) * value +
      (h1 / (h2 * (h1 + h2))) * y[i + 1]!
    );
  });
}

const argmin = (values: readonly number[]): number =>
  values.reduce((best, value, i) => (value < values[best]! ? i : best), 0);

/**
 * Lightning's `suggestion()`: the point of steepest descent of the (smoothed) loss against the
 * learning rate, skipping `skipBegin` points at the start and `skipEnd` at the end and any
 * non-finite loss; `undefined` with fewer than two points left.
 */
export function steepest(
  learningRates: readonly number[],
  losses: readonly number[],
  skipBegin = 10,
  skipEnd = 1,
): Suggestion | undefined {
  const kept: number[] = [];
  for (let i = skipBegin; i < losses.length - skipEnd; i++)
    if (Number.isFinite(losses[i])) kept.push(i);
  if (kept.length < 2) return undefined;
  const slopes = gradient(
    kept.map((i) => losses[i]!),
    kept.map((i) => learningRates[i]!),
  );
  const index = kept[argmin(slopes)]!;
  return { learningRate: learningRates[index]!, index };
}

/**
 * The points fastai's suggestion rules look at: without the first `numSteps / 10` and the last 5
 * points, and cut at the first NaN.
 */
function fastaiWindow(length: number, losses: readonly number[], numSteps: number): number[] {
  const indices: number[] = [];
  for (let i = Math.floor(numSteps / 10); i < length - 5; i++) {
    if (Number.isNaN(losses[i])) break;
    indices.push(i);
  }
  return indices;
}

/** fastai's `minimum`: one tenth of the learning rate at the lowest loss. */
export function minimum(
  learningRates: readonly number[],
  losses: readonly number[],
  numSteps: number,
): Suggestion | undefined {
  const window = fastaiWindow(losses.length, losses, numSteps);
  if (window.length === 0) return undefined;
  const index = window[argmin(window.map((i) => losses[i]!))]!;
  return { learningRate: learningRates[index]! / 10, index };
}

/**
 * fastai's `valley`: the longest stretch over which the loss keeps decreasing (the longest
 * decreasing subsequence), and the point about half way down it (`start + ⌊len/3⌋ + ⌊len/6⌋`, as
 * fastai computes it).
 */
export function valley(
  learningRates: readonly number[],
  losses: readonly number[],
  numSteps: number,
): Suggestion | undefined {
  const window = fastaiWindow(losses.length, losses, numSteps);
  const n = window.length;
  if (n === 0) return undefined;
  const y = window.map((i) => losses[i]!);
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (y[i]! < y[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd]!;
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const index = window[maxStart + Math.trunc(sections) + Math.trunc(sections / 2)]!;
  return { learningRate: learningRates[index]!, index };
}

/**
 * Every rule's suggestion for a sweep: `steepest` (Lightning's `suggestion()`, on the whole curve
 * but its first 10 and last point), `minimum` and `valley` (fastai's, on the curve without its
 * first `numSteps / 10` and last 5 points).
 *
 * ## Example
 * ```ts
 * import { suggestLearningRates } from '@rxfit/lr-finder';
 * const { valley, steepest, minimum } = suggestLearningRates(result.learningRates, result.losses, 100);
 * ```
 * @param learningRates - The learning rate of each step.
 * @param losses - The smoothed loss after each step.
 * @param numSteps - The steps the sweep was asked for (fastai's `num_it`).
 * @returns One suggestion per rule, `undefined` where the curve has too few points.
 */
export function suggestLearningRates(
  learningRates: readonly number[],
  losses: readonly number[],
  numSteps: number,
): Suggestions {
  return {
    steepest: steepest(learningRates, losses),
    minimum: minimum(learningRates, losses, numSteps),
    valley: valley(learningRates, losses, numSteps),
  };
}
