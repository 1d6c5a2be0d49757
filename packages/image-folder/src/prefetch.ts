/**
 * Yields `load(0) … load(count − 1)` in order while keeping up to `depth` later loads running
 * ahead of the consumer, and reports how long each `next()` waited for its value.
 *
 * A value that resolves to `undefined` is skipped. A load's rejection surfaces when the consumer
 * reaches it (never as an unhandled rejection). Stopping early abandons loads in flight; they
 * only hold plain arrays, so nothing leaks. As the look-ahead window passes the last load,
 * `beyond(0)`, `beyond(1)`, … are called, so that a caller can start what comes next (the
 * following epoch) while the consumer works on the last values.
 *
 * ## Example
 * ```ts
 * import { prefetch } from '@rxfit/image-folder';
 * let waited = 0;
 * for await (const v of prefetch(3, async (i) => i * 2, 2, (ms) => (waited += ms))) console.log(v);
 * ```
 *
 * @param count - how many loads
 * @param load - starts load `i`
 * @param depth - loads kept running ahead (0 = load on demand)
 * @param onWait - called with the milliseconds each `next()` spent waiting
 * @param beyond - called once for each position `count + j` the window reaches (j < depth)
 * @returns an async generator over the loaded values
 */
export async function* prefetch<T>(
  count: number,
  load: (i: number) => Promise<T | undefined>,
  depth: number,
  onWait: (ms: number) => void,
  beyond?: (j: number) => void,
): AsyncGenerator<T, void, undefined> {
  const inflight = new Map<number, Promise<T | undefined>>();
  let started = 0;
  const launch = (upTo: number): void => {
    for (; started <= upTo; started++) {
      if (started >= count) {
        beyond?.(started - count);
        continue;
      }
      const p = load(started);
      p.catch(() => undefined); // handled when awaited below
      inflight.set(started, p);
    }
  };
  for (let i = 0; i < count; i++) {
    launch(i + depth);
    const t0 = performance.now();
    const value = await inflight.get(i)!;
    inflight.delete(i);
    onWait(performance.now() - t0);
    if (value !== undefined) yield value;
  }
}
