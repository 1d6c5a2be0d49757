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
