import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { discoverImages } from './discover-images.js';
import { encodeLabels } from './encode-labels.js';
import { loadBatch, type BatchConfig, type LoadedBatch } from './load-batch.js';
import { prefetch } from './prefetch.js';
import { randomTransform, type TransformParams } from './random-transform.js';
import { resolveOptions, type ImageFolderOptions } from './resolve-options.js';
import { epochOrder, seededRandom } from '@rxfit/core/operator-kit';
import { createWorkerPool, type WorkerPool } from './worker-pool.js';

// Datasets with the same `workers` count share one pool (a training and a validation folder,
// or many datasets in tests); it stops when the last dataset using it is closed. Idle workers
// are unreferenced, so an unclosed pool never keeps the process alive.
const pools = new Map<number, { pool: WorkerPool; users: number }>();

function acquirePool(size: number): WorkerPool {
  let entry = pools.get(size);
  if (!entry) {
    entry = { pool: createWorkerPool(size), users: 0 };
    pools.set(size, entry);
  }
  entry.users++;
  return entry.pool;
}

async function releasePool(size: number): Promise<void> {
  const entry = pools.get(size);
  if (!entry || --entry.users > 0) return;
  pools.delete(size);
  await entry.pool.close();
}

/**
 * One batch with labels: `xs` float32 `[b, h, w, c]`; `ys` float32 `[b]` (binary, sparse),
 * `[b, numClasses]` (categorical) or a separate copy of `xs` (input). The consumer disposes both.
 *
 * ## Example
 * ```ts
 * import type { LabelledBatch } from '@rxfit/image-folder';
 * const dispose = (b: LabelledBatch) => { b.xs.dispose(); b.ys.dispose(); };
 * ```
 */
export interface LabelledBatch {
  readonly xs: tf.Tensor4D;
  readonly ys: tf.Tensor;
}

/**
 * One batch without labels (`classMode: null`): Keras yields only `x` then, for `predict`.
 *
 * ## Example
 * ```ts
 * import type { ImageBatch } from '@rxfit/image-folder';
 * const dispose = (b: ImageBatch) => b.xs.dispose();
 * ```
 */
export interface ImageBatch {
  readonly xs: tf.Tensor4D;
}

/**
 * Counters of an {@link ImageFolder} since it was created.
 *
 * ## Example
 * ```ts
 * import type { ImageFolderStats } from '@rxfit/image-folder';
 * const waitShare = (s: ImageFolderStats, trainMs: number) => s.waitMs / (s.waitMs + trainMs);
 * ```
 */
export interface ImageFolderStats {
  /** Total milliseconds consumers spent waiting inside `next()` for a batch. */
  readonly waitMs: number;
  /** Batches yielded. */
  readonly batches: number;
  /** Images yielded. */
  readonly images: number;
  /** Images skipped as invalid (`onInvalidImage: 'skip'`). */
  readonly skipped: number;
  /** Warnings reported. */
  readonly warnings: number;
}

/**
 * A class-per-folder image dataset; a `BatchSource` for `fit` from `@rxfit/core`.
 *
 * ## Example
 * ```ts
 * import { imageFolder } from '@rxfit/image-folder';
 * const data = await imageFolder('training_set', { targetSize: [64, 64], classMode: 'binary', seed: 1 });
 * for await (const { xs, ys } of data.batches(0)) { xs.dispose(); ys.dispose(); }
 * await data.close();
 * ```
 */
export interface ImageFolder<B = LabelledBatch> {
  /** Class names in label order. */
  readonly classNames: readonly string[];
  /** Class name → label index (Keras' `class_indices`). */
  readonly classIndices: Readonly<Record<string, number>>;
  /** Files relative to the directory (`cats/cat.1.jpg`), in Keras' order. */
  readonly filenames: readonly string[];
  /** Label index of each file (Keras' `classes`). */
  readonly classes: Int32Array;
  /** Number of images (Keras' `samples`). */
  readonly size: number;
  readonly batchSize: number;
  /** `ceil(size / batchSize)`: the last, partial batch is kept. */
  readonly batchesPerEpoch: number;
  /** `Found N images belonging to K classes.` */
  readonly description: string;
  /** The seed in force (drawn at random when none was given). */
  readonly seed: number;
  /** The batches of one epoch; order and augmentation depend only on `(seed, epoch)`. */
  batches(epoch: number): AsyncIterable<B>;
  /** Counters: waiting time, batches, images, skipped images, warnings. */
  stats(): ImageFolderStats;
  /**
   * Releases this dataset's share of the worker threads (stopped when no dataset uses them).
   * Optional: idle workers never keep the process alive. `batches()` still works afterwards.
   */
  close(): Promise<void>;
}

/**
 * Keras' `ImageDataGenerator(...).flow_from_directory(dir, ...)` as one call: scans `directory`
 * (one sub-folder per class), then serves shuffled, augmented float32 batches per epoch, decoded
 * with sharp and augmented off the main thread, `prefetch` batches ahead.
 *
 * ## Example
 * ```ts
 * import { imageFolder } from '@rxfit/image-folder';
 * const train = await imageFolder('training_set', {
 *   targetSize: [64, 64], batchSize: 32, classMode: 'binary',
 *   rescale: 1 / 255, shearRange: 0.2, zoomRange: 0.2, horizontalFlip: true,
 * });
 * console.log(train.description); // Found 8000 images belonging to 2 classes.
 * ```
 *
 * @param directory - folder with one sub-folder per class
 * @param options - see {@link ImageFolderOptions}
 * @returns the dataset
 * @throws TypeError or RangeError at call time for a bad option (naming it, the value and what is
 *   allowed); Error naming the folder when it is missing, has no class folders, a class has no
 *   images, or nothing is left to load
 */
export async function imageFolder(
  directory: string,
  options: ImageFolderOptions & { readonly classMode: null },
): Promise<ImageFolder<ImageBatch>>;
export async function imageFolder(
  directory: string,
  options?: ImageFolderOptions,
): Promise<ImageFolder>;
export async function imageFolder(
  directory: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolder<LabelledBatch | ImageBatch>> {
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(
      `imageFolder: directory must be a non-empty path string, got ${typeof directory === 'string' ? "''" : typeof directory}`,
    );
  }
  const o = resolveOptions(options);
  let warnings = 0;
  const warn = (message: string): void => {
    warnings++;
    if (o.onWarning) o.onWarning(message);
    else if (o.logger) o.logger(`Warning: ${message}`);
    else process.emitWarning(message, { code: 'RXFIT_IMAGE_FOLDER' });
  };
  const found = await discoverImages(directory, {
    classes: o.classes,
    ...(o.extensions ? { extensions: o.extensions } : {}),
    followLinks: o.followLinks,
    validationSplit: o.validationSplit,
    subset: o.subset,
    allowEmptyClasses: o.allowEmptyClasses,
    onWarning: warn,
  });
  if (found.filenames.length === 0) {
    const which = o.subset ? ` in subset '${o.subset}' (validationSplit ${o.validationSplit})` : '';
    throw new Error(`imageFolder: no images to load in "${directory}"${which}`);
  }
  o.logger?.(found.description);
  if (o.classMode === 'binary' && found.classNames.length !== 2) {
    warn(
      `classMode 'binary' with ${found.classNames.length} classes: labels are the class indices 0..${found.classNames.length - 1}`,
    );
  }
  // sharp's cache (libvips' operation cache) is process-wide and the app's to set: rxfit leaves it
  // as it is (libvips bounds it, 50 MB by default), since workers share the main thread's libvips.

  const [height, width] = o.targetSize;
  const config: BatchConfig = {
    height,
    width,
    colorMode: o.colorMode,
    interpolation: o.interpolation,
    keepAspectRatio: o.keepAspectRatio,
    fastResize: o.fastResize,
    fillMode: o.fillMode,
    cval: o.cval,
    rescale: o.rescale,
    limitInputPixels: o.limitInputPixels,
    maxBatchPixels: o.maxBatchPixels,
    concurrency: o.concurrency,
  };
  const channels = o.colorMode === 'grayscale' ? 1 : o.colorMode === 'rgba' ? 4 : 3;
  const augments =
    o.rotationRange !== 0 ||
    (Array.isArray(o.widthShiftRange) ? o.widthShiftRange.length > 0 : o.widthShiftRange !== 0) ||
    (Array.isArray(o.heightShiftRange)
      ? o.heightShiftRange.length > 0
      : o.heightShiftRange !== 0) ||
    o.shearRange !== 0 ||
    o.zoomRange !== 0 ||
    o.channelShiftRange !== 0 ||
    o.horizontalFlip ||
    o.verticalFlip ||
    o.brightnessRange !== null;
  const paths = found.filenames.map((f) => join(directory, f));
  const size = paths.length;
  const batchesPerEpoch = Math.ceil(size / o.batchSize);
  let pool: WorkerPool | undefined;
  const stats = { waitMs: 0, batches: 0, images: 0, skipped: 0 };
  const reported = new Set<number>();

  type Loaded = { indices: Int32Array; batch: LoadedBatch };
  const load = async (indices: Int32Array, epoch: number): Promise<Loaded> => {
    const files = Array.from(indices, (i) => paths[i]!);
    const params: (TransformParams | null)[] = Array.from(indices, (i) =>
      augments ? randomTransform(seededRandom(o.seed, epoch, i), o, height, width) : null,
    );
    if (o.workers > 0) {
      pool ??= acquirePool(o.workers);
      return { indices, batch: await pool.run(files, params, config) };
    }
    return { indices, batch: await loadBatch(files, params, config) };
  };

  // Runs when the consumer takes the batch: only then are tensors created, so batches loaded
  // ahead and abandoned (an early `break`) leave nothing to dispose.
  const toTensors = ({ indices, batch }: Loaded): LabelledBatch | ImageBatch | undefined => {
    for (const f of batch.failures) {
      const file = join(directory, found.filenames[indices[f.index]!]!);
      if (o.onInvalidImage === 'error')
        throw new Error(`imageFolder: cannot load image "${file}": ${f.message}`);
      stats.skipped++;
      if (!reported.has(indices[f.index]!)) {
        reported.add(indices[f.index]!);
        warn(`skipping invalid image "${file}": ${f.message}`);
      }
    }
    const b = batch.kept.length;
    if (b === 0) return undefined;
    const xs = tf.tensor4d(batch.x, [b, height, width, channels], 'float32');
    stats.batches++;
    stats.images += b;
    if (o.classMode === null) return { xs };
    if (o.classMode === 'input') return { xs, ys: xs.clone() };
    const labels = encodeLabels(
      batch.kept.map((k) => found.classes[indices[k]!]!),
      o.classMode,
      found.classNames.length,
    );
    return { xs, ys: tf.tensor(labels.data, labels.shape, 'float32') };
  };

  // Batches of the next epoch, started while the consumer works on the last ones of this epoch
  // (their order and augmentation are known: they depend only on the seed and the epoch).
  let ahead: { epoch: number; loads: Map<number, Promise<Loaded>> } | undefined;
  const startBatch = (order: Int32Array, epoch: number, i: number): Promise<Loaded> =>
    load(order.subarray(i * o.batchSize, Math.min(size, (i + 1) * o.batchSize)), epoch);

  async function* epochBatches(
    epoch: number,
  ): AsyncGenerator<LabelledBatch | ImageBatch, void, undefined> {
    const order = epochOrder(size, o.shuffle, o.seed, epoch);
    const early = ahead?.epoch === epoch ? ahead.loads : undefined;
    ahead = undefined; // loads started for any other epoch are dropped
    let nextOrder: Int32Array | undefined;
    const loads = prefetch(
      batchesPerEpoch,
      (i) => {
        const started = early?.get(i);
        early?.delete(i);
        return started ?? startBatch(order, epoch, i);
      },
      o.prefetch,
      (ms) => (stats.waitMs += ms),
      (j) => {
        if (j >= batchesPerEpoch) return;
        if (ahead?.epoch !== epoch + 1) ahead = { epoch: epoch + 1, loads: new Map() };
        if (ahead.loads.has(j)) return;
        nextOrder ??= epochOrder(size, o.shuffle, o.seed, epoch + 1);
        const p = startBatch(nextOrder, epoch + 1, j);
        p.catch(() => undefined); // surfaces if that epoch is read
        ahead.loads.set(j, p);
      },
    );
    for await (const loaded of loads) {
      const batch = toTensors(loaded);
      if (batch) yield batch;
    }
  }

  return Object.freeze({
    classNames: found.classNames,
    classIndices: found.classIndices,
    filenames: found.filenames,
    classes: found.classes,
    size,
    batchSize: o.batchSize,
    batchesPerEpoch,
    description: found.description,
    seed: o.seed,
    batches(epoch: number): AsyncIterable<LabelledBatch | ImageBatch> {
      if (!Number.isSafeInteger(epoch) || epoch < 0) {
        throw new RangeError(
          `imageFolder: batches(epoch) needs an integer epoch ≥ 0, got ${String(epoch)}`,
        );
      }
      return { [Symbol.asyncIterator]: () => epochBatches(epoch) };
    },
    stats: (): ImageFolderStats => ({ ...stats, warnings }),
    close: async (): Promise<void> => {
      ahead = undefined;
      if (pool) {
        pool = undefined;
        await releasePool(o.workers);
      }
    },
  });
}
