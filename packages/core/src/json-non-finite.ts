/**
 * JSON without losing a diverged value: JSON has no NaN or Infinity (`JSON.stringify` writes
 * `null`), so logs tag them as `{"$float":"NaN"}`, `{"$float":"Infinity"}` or
 * `{"$float":"-Infinity"}`. One encoding for the event log, the sweep log and the sweep's queue.
 */

const TAGS: readonly string[] = ['NaN', 'Infinity', '-Infinity'];

/**
 * A `JSON.stringify` replacer that tags NaN and ±Infinity.
 *
 * ## Example
 * ```ts
 * JSON.stringify({ loss: NaN }, nonFiniteReplacer); // '{"loss":{"$float":"NaN"}}'
 * ```
 * @param _key - The property name (unused).
 * @param value - The value being written.
 * @returns The value, or its tag when it is a non-finite number.
 */
export function nonFiniteReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $float: String(value) } : value;
}

/**
 * A `JSON.parse` reviver that turns the tags {@link nonFiniteReplacer} writes back into numbers.
 *
 * ## Example
 * ```ts
 * JSON.parse('{"loss":{"$float":"NaN"}}', nonFiniteReviver); // { loss: NaN }
 * ```
 * @param _key - The property name (unused).
 * @param value - The value read.
 * @returns The number a tag stands for, or the value unchanged.
 */
export function nonFiniteReviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tag = (value as { $float?: unknown }).$float;
    if (typeof tag === 'string' && TAGS.includes(tag) && Object.keys(value).length === 1)
      return Number(tag);
  }
  return value;
}
