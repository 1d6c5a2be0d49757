/** JSON that keeps NaN and ±Infinity (as `{"$float":"NaN"}`, the event log's encoding). */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? { $float: String(v) } : v,
  );
}

/** Reads what {@link encode} wrote. */
export function decode(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && '$float' in v && Object.keys(v).length === 1) {
      return Number((v as { $float: string }).$float);
    }
    return v;
  });
}
