/** An error's message, or the thrown value as text. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The first line of a (possibly multi-line native) error message, for one-line reasons. */
export function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
