/** A parameter value a trial receives. */
export type ParamValue = number | string | boolean;

/** The values one trial trains with, by parameter name. */
export type Params = Readonly<Record<string, ParamValue>>;

/** One dimension of a search space; build it with {@link choice}, {@link uniform}, {@link logUniform} or {@link int}. */
export type ParamSpec =
  | { readonly kind: 'choice'; readonly values: readonly ParamValue[] }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  | { readonly kind: 'logUniform'; readonly low: number; readonly high: number }
  | { readonly kind: 'int'; readonly low: number; readonly high: number; readonly step: number };

/** A search space: one {@link ParamSpec} per parameter name. */
export type Space = Readonly<Record<string, ParamSpec>>;

/**
 * One of the given values (Optuna's `suggest_categorical`, Ray Tune's `choice`).
 *
 * ## Example
 * ```ts
 * import { choice } from '@rxfit/sweep';
 * const space = { optimizer: choice(['adam', 'sgd']) };
 * ```
 * @param values - At least one number, string or boolean.
 * @returns The parameter's spec.
 * @throws TypeError for an empty list or a value of another type.
 */
export function choice(values: readonly ParamValue[]): ParamSpec {
  if (!Array.isArray(values) || values.length === 0) {
    throw new TypeError(`choice: values must be a non-empty array, got ${JSON.stringify(values)}`);
  }
  for (const value of values) {
    if (!['number', 'string', 'boolean'].includes(typeof value) || (typeof value === 'number' && !Number.isFinite(value))) {
      throw new TypeError(`choice: every value must be a finite number, a string or a boolean, got ${String(value)}`);
    }
  }
  const copy = Object.freeze(Array.from<ParamValue>(values));
  return Object.freeze({ kind: 'choice', values: copy });
}

function checkRange(owner: string, low: number, high: number, positive = false): void {
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new RangeError(`${owner}: low and high must be finite numbers with low < high, got low ${String(low)}, high ${String(high)}`);
  }
  if (positive && low <= 0) throw new RangeError(`${owner}: low must be > 0 on a log scale, got ${String(low)}`);
}

/**
 * A float drawn uniformly from [low, high].
 *
 * ## Example
 * ```ts
 * import { uniform } from '@rxfit/sweep';
 * const space = { dropout: uniform(0, 0.5) };
 * ```
 * @param low - The smallest value.
 * @param high - The largest value (> low).
 * @returns The parameter's spec.
 * @throws RangeError unless low < high, both finite.
 */
export function uniform(low: number, high: number): ParamSpec {
  checkRange('uniform', low, high);
  return Object.freeze({ kind: 'uniform', low, high });
}

/**
 * A float whose logarithm is uniform in [log low, log high]: learning rates, weight decay.
 *
 * ## Example
 * ```ts
 * import { logUniform } from '@rxfit/sweep';
 * const space = { lr: logUniform(1e-4, 1e-1) };
 * ```
 * @param low - The smallest value (> 0).
 * @param high - The largest value (> low).
 * @returns The parameter's spec.
 * @throws RangeError unless 0 < low < high.
 */
export function logUniform(low: number, high: number): ParamSpec {
  checkRange('logUniform', low, high, true);
  return Object.freeze({ kind: 'logUniform', low, high });
}

/**
 * An integer in [low, high] (both included), on a grid of `step`.
 *
 * ## Example
 * ```ts
 * import { int } from '@rxfit/sweep';
 * const space = { units: int(16, 128, 16) };
 * ```
 * @param low - The smallest value (an integer).
 * @param high - The largest value (an integer > low).
 * @param step - The spacing. @default 1
 * @returns The parameter's spec.
 * @throws RangeError for non-integers, low >= high or a step < 1.
 */
export function int(low: number, high: number, step = 1): ParamSpec {
  checkRange('int', low, high);
  if (!Number.isInteger(low) || !Number.isInteger(high) || !Number.isInteger(step) || step < 1) {
    throw new RangeError(`int: low, high and step must be integers (step >= 1), got ${String(low)}, ${String(high)}, ${String(step)}`);
  }
  return Object.freeze({ kind: 'int', low, high, step });
}

/** Checks a space given to `sweep`: a non-empty object of specs built by this package. */
export function checkSpace(space: unknown): asserts space is Space {
  if (typeof space !== 'object' || space === null || Array.isArray(space) || Object.keys(space).length === 0) {
    throw new TypeError('sweep: space must be a non-empty object of parameters, for example { lr: logUniform(1e-4, 1e-1) }');
  }
  for (const [name, spec] of Object.entries(space)) {
    const kind = (spec as { kind?: unknown } | null)?.kind;
    if (!['choice', 'uniform', 'logUniform', 'int'].includes(kind as string)) {
      throw new TypeError(`sweep: space.${name} must be built with choice, uniform, logUniform or int, got ${JSON.stringify(spec)}`);
    }
  }
}
