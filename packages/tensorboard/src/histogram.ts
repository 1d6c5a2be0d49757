/** TensorBoard's default number of histogram buckets (`tf.summary.histogram`). */
export const DEFAULT_BUCKET_COUNT = 30;

/**
 * The buckets of a histogram summary, computed as TensorBoard's `tf.summary.histogram` does
 * (`tensorboard/plugins/histogram/summary_v2.py`, `_buckets`): values cast to float64,
 * `bucketCount` equal-width buckets from the minimum to the maximum, a value on an inner edge
 * counted in the bucket to its right and the maximum in the last one; when every value is the
 * same, every bucket is `[value, value]` and the last one holds them all.
 *
 * ## Example
 * ```ts
 * import { histogramBuckets } from '@rxfit/tensorboard';
 * histogramBuckets([0, 1, 2, 3], 2); // [[0, 1.5, 2], [1.5, 3, 2]]
 * ```
 * @param values - The values (a weight's elements, read with `await tensor.data()`).
 * @param bucketCount - How many buckets. @default 30
 * @returns `[left, right, count]` per bucket; empty when there is no value.
 */
export function histogramBuckets(
  values: ArrayLike<number>,
  bucketCount: number = DEFAULT_BUCKET_COUNT,
): [number, number, number][] {
  if (values.length === 0 || bucketCount <= 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const range = max - min;
  if (range === 0) {
    return Array.from({ length: bucketCount }, (_, i) => [
      min,
      min,
      i === bucketCount - 1 ? values.length : 0,
    ]);
  }
  const width = range / bucketCount;
  const counts = new Array<number>(bucketCount).fill(0);
  for (let i = 0; i < values.length; i++) {
    const index = Math.min(Math.floor((values[i]! - min) / width), bucketCount - 1);
    counts[index]! += 1;
  }
  // tf.linspace: start + i * step, the last edge replaced by the maximum itself.
  const step = range / bucketCount;
  const edges = Array.from({ length: bucketCount + 1 }, (_, i) =>
    i === bucketCount ? max : min + step * i,
  );
  return counts.map((count, i) => [edges[i]!, edges[i + 1]!, count]);
}
