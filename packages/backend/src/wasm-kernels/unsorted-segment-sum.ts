import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { composedKernel } from './kernel-plumbing.js';

/**
 * `UnsortedSegmentSum` for wasm, which has none (it is the gradient of `gather`, hence of
 * every `embedding` layer). Built on `ScatterNd`, which sums duplicate indices on wasm.
 *
 * Ids outside `[0, numSegments)` are dropped, as TensorFlow does: they are sent to an extra
 * row that is sliced off, because a negative index would write out of bounds.
 */
export const unsortedSegmentSumKernel: KernelConfig = composedKernel(
  'UnsortedSegmentSum',
  ['x', 'segmentIds'],
  ({ x, segmentIds }, attrs) => {
    const numSegments = attrs['numSegments'] as number;
    const ids = segmentIds;
    const rest = x.shape.slice(ids.rank);
    const n = ids.size;
    if (n === 0) return tf.zeros([numSegments, ...rest], x.dtype);
    const flatIds = tf.reshape(ids, [n]);
    const bad = tf.logicalOr(tf.less(flatIds, 0), tf.greaterEqual(flatIds, numSegments));
    const safe = tf.where(bad, tf.fill([n], numSegments, 'int32'), flatIds);
    const summed = tf.scatterND(tf.reshape(safe, [n, 1]), tf.reshape(x, [n, ...rest]), [
      numSegments + 1,
      ...rest,
    ]);
    return tf.slice(summed, 0, numSegments);
  },
);
