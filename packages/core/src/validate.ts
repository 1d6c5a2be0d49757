/** Checks that `value` is an integer ≥ `min`; the error names the option. */
export function checkInteger(owner: string, option: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${owner}: ${option} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Checks that `value` is a finite number in [min, max] (or (min, max) when `open`). */
export function checkNumber(
  owner: string,
  option: string,
  value: unknown,
  range: { min?: number; max?: number; open?: boolean } = {},
): void {
  const { min = -Infinity, max = Infinity, open = false } = range;
  const inRange =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (open ? value > min && value < max : value >= min && value <= max);
  if (!inRange) {
    const bounds = `${open ? '(' : '['}${min}, ${max}${open ? ')' : ']'}`;
    throw new RangeError(`${owner}: ${option} must be a finite number in ${bounds}, got ${String(value)}`);
  }
}

/** Checks that `value` is one of `allowed`. */
export function checkOneOf<T extends string>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new RangeError(
      `${owner}: ${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

/** Checks that `value` is a boolean; the error names the option. */
export function checkBoolean(owner: string, option: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${owner}: ${option} must be a boolean, got ${describeValue(value)}`);
  }
}

/** Checks that `value` is a non-empty string; the error names the option. */
export function checkString(owner: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${owner}: ${option} must be a non-empty string, got ${describeValue(value)}`);
  }
}

/** Checks that `value` is a function; the error names the option. */
export function checkFunction(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new TypeError(`${owner}: ${option} must be a function, got ${describeValue(value)}`);
  }
}

/**
 * The one check of an options object that every rxfit factory makes: it is a plain object and
 * holds only known keys. An unknown key is a `TypeError` that names it and the closest valid
 * option; a Keras snake_case name (`save_best_only`) gets its camelCase spelling (`saveBestOnly`).
 * Values are checked by the factory, option by option ({@link checkInteger}, {@link checkBoolean}, ...).
 *
 * ## Example
 * ```ts
 * import { checkOptions } from '@rxfit/core/operator-kit';
 * checkOptions('earlyStopping', options, ['monitor', 'patience', 'minDelta']);
 * ```
 * @param owner - The factory, named in the error.
 * @param options - What the user passed (`undefined` is an empty object).
 * @param known - Every option the factory takes.
 * @param hints - What to say instead for a key that is a habit from elsewhere (Keras' `callbacks`).
 * @throws TypeError for a non-object, or an unknown key.
 */
export function checkOptions(
  owner: string,
  options: unknown,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${owner}: options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
    if (hint !== undefined) throw new TypeError(`${owner}: unknown option '${key}': ${hint}`);
    throw new TypeError(`${owner}: unknown option '${key}'${suggestion(key, known)} (options: ${known.join(', ')})`);
  }
}

/** ", did you mean 'x'?" for the closest of `candidates`, or '' when none is close. */
function suggestion(name: string, candidates: readonly string[]): string {
  const camel = name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (camel !== name && candidates.includes(camel)) {
    return `: rxfit options are camelCase, did you mean '${camel}' (Keras' ${name})?`;
  }
  const best = closestName(name, candidates);
  return best === undefined ? '' : `: did you mean '${best}'?`;
}

/**
 * The candidate closest to `name` by edit distance (case-insensitive), if it is close enough to
 * be a typo: at most a third of the longer name's length, and at least 1.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(name.length, best?.length ?? 0) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A value as an error message shows it: JSON where it can, never a long object. */
function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
