import * as tf from '@tensorflow/tfjs';
import { epochOrder } from './seeded-random.js';

/** One batch: inputs and targets (arrays for multi-input or multi-output models). */
export interface Batch {
  readonly xs: tf.Tensor | readonly tf.Tensor[];
  readonly ys: tf.Tensor | readonly tf.Tensor[];
}

/** In-memory training data: whole tensors, batched (and shuffled) by the loop. */
export interface TensorData {
  readonly xs: tf.Tensor | readonly tf.Tensor[];
  readonly ys: tf.Tensor | readonly tf.Tensor[];
}

/**
 * A source of batches, one pass per epoch, such as `imageFolder(...)`. The loop disposes
 * every tensor it receives.
 */
export interface BatchSource {
  /** The batches of one epoch; sources that shuffle should derive the order from `epoch`. */
  batches(epoch: number): AsyncIterable<Batch>;
  /** How many batches one epoch yields, when known. */
  readonly batchesPerEpoch?: number;
  /** How many samples one epoch yields, when known. */
  readonly size?: number;
  /** A line that describes the data (`Found 8005 images belonging to 2 classes.`). */
  readonly description?: string;
}

/**
 * What `fit` trains on: in-memory tensors, a {@link BatchSource}, an async iterable of batches
 * (iterated anew each epoch) or a `tf.data.Dataset` of `{ xs, ys }` elements.
 */
export type TrainingData = TensorData | BatchSource | AsyncIterable<Batch> | tf.data.Dataset<tf.TensorContainerObject>;

/** How the loop reads one epoch of batches, whatever the data is. */
export interface EpochReader {
  /** Opens the batches of one epoch; `steps` limits them (Keras' `steps_per_epoch`). */
  open(epoch: number, steps: number | undefined): AsyncIterator<Batch>;
  readonly samples?: number;
  readonly batchSize?: number;
  readonly batchesPerEpoch?: number;
  readonly description?: string;
  /** Releases what the reader holds (validation slices of in-memory data). */
  dispose(): void;
}

/** Options of {@link readTensors}. */
export interface TensorReadOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Seeds the per-epoch shuffle: the order then depends on (seed, epoch) alone. */
  readonly seed: number | undefined;
}

/** Whether `data` is in-memory tensors. */
export function isTensorData(data: unknown): data is TensorData {
  if (typeof data !== 'object' || data === null || !('xs' in data) || !('ys' in data)) return false;
  const isTensors = (v: unknown): boolean =>
    v instanceof tf.Tensor || (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof tf.Tensor));
  return isTensors(data.xs) && isTensors(data.ys);
}

/** Whether `data` is a {@link BatchSource}. */
function isBatchSource(data: unknown): data is BatchSource {
  return typeof data === 'object' && data !== null && typeof (data as BatchSource).batches === 'function';
}

function isDataset(data: unknown): data is tf.data.Dataset<tf.TensorContainerObject> {
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as tf.data.Dataset<tf.TensorContainerObject>).iterator === 'function' &&
    typeof (data as tf.data.Dataset<tf.TensorContainerObject>).batch === 'function'
  );
}

function isAsyncIterable(data: unknown): data is AsyncIterable<Batch> {
  return typeof data === 'object' && data !== null && Symbol.asyncIterator in data;
}

/** The tensors of one side of a batch, as an array. */
function tensorsOf(side: tf.Tensor | readonly tf.Tensor[]): readonly tf.Tensor[] {
  return side instanceof tf.Tensor ? [side] : side;
}

/** The number of samples in a batch (first axis of its first input). */
export function batchLength(batch: Batch): number {
  return tensorsOf(batch.xs)[0]?.shape[0] ?? 0;
}

/** Disposes every tensor of a batch. */
export function disposeBatch(batch: Batch): void {
  tf.dispose([...tensorsOf(batch.xs), ...tensorsOf(batch.ys)]);
}

/** Reads in-memory tensors in batches, shuffled per epoch when asked (as tfjs `model.fit`). */
function readTensors(data: TensorData, options: TensorReadOptions): EpochReader {
  const xs = tensorsOf(data.xs);
  const ys = tensorsOf(data.ys);
  const samples = xs[0]!.shape[0];
  for (const t of [...xs, ...ys]) {
    if (t.shape[0] !== samples) {
      throw new RangeError(
        `fit: every tensor of xs and ys must have the same number of samples (first axis): got ${xs
          .concat(ys)
          .map((t) => t.shape[0])
          .join(', ')}`,
      );
    }
  }
  const { batchSize } = options;
  const batchesPerEpoch = Math.ceil(samples / batchSize);
  // Without a seed, one is drawn per run: epochs still differ, runs are not reproducible.
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  // A gather, also without shuffling: the wasm backend's slice reads the whole source tensor
  // back from its heap (readSync copies it) for every batch, which made unshuffled epochs 1.5x
  // slower than tfjs' model.fit (it gathers too). bench/fit-overhead.ts measures both paths.
  const take = (tensors: readonly tf.Tensor[], start: number, end: number, order: Int32Array) =>
    tf.tidy(() => {
      const indices = tf.tensor1d(order.subarray(start, end), 'int32');
      return tensors.map((t) => tf.gather(t, indices));
    });
  return {
    samples,
    batchSize,
    batchesPerEpoch,
    async *open(epoch, steps) {
      const order = epochOrder(samples, options.shuffle, seed, epoch);
      const count = Math.min(steps ?? batchesPerEpoch, batchesPerEpoch);
      for (let b = 0; b < count; b++) {
        const start = b * batchSize;
        const end = Math.min(start + batchSize, samples);
        const bx = take(xs, start, end, order);
        const by = take(ys, start, end, order);
        yield { xs: bx.length === 1 ? bx[0]! : bx, ys: by.length === 1 ? by[0]! : by };
      }
    },
    dispose() {},
  };
}

/**
 * Splits off the last `fraction` of the samples for validation, before any shuffle, as Keras'
 * `validation_split` does.
 */
export function splitTensors(data: TensorData, fraction: number): { train: TensorData; validation: TensorData } {
  const xs = tensorsOf(data.xs);
  const ys = tensorsOf(data.ys);
  const n = xs[0]!.shape[0];
  const at = Math.floor(n * (1 - fraction));
  if (at <= 0 || at >= n) {
    throw new RangeError(
      `fit: validationSplit ${fraction} of ${n} samples leaves ${at} for training and ${n - at} for validation; both must be > 0`,
    );
  }
  const part = (ts: readonly tf.Tensor[], start: number, size: number) => {
    const parts = ts.map((t) => t.slice(start, size));
    return parts.length === 1 ? parts[0]! : parts;
  };
  return {
    train: { xs: part(xs, 0, at), ys: part(ys, 0, at) },
    validation: { xs: part(xs, at, n - at), ys: part(ys, at, n - at) },
  };
}

/** Reads batches from a source that is not in-memory tensors. */
function readBatches(data: BatchSource | AsyncIterable<Batch> | tf.data.Dataset<tf.TensorContainerObject>): EpochReader {
  if (isBatchSource(data)) {
    return {
      ...(data.size === undefined ? {} : { samples: data.size }),
      ...(data.batchesPerEpoch === undefined ? {} : { batchesPerEpoch: data.batchesPerEpoch }),
      ...(data.description === undefined ? {} : { description: data.description }),
      open: (epoch, steps) => limit(data.batches(epoch)[Symbol.asyncIterator](), steps),
      dispose() {},
    };
  }
  const iterable: AsyncIterable<Batch> = isDataset(data) ? datasetIterable(data) : data;
  if (!isAsyncIterable(iterable)) {
    throw new TypeError(
      'fit: data must be { xs, ys } tensors, a BatchSource (an object with batches(epoch)), an async iterable of { xs, ys } batches or a tf.data.Dataset',
    );
  }
  // Keras: with steps_per_epoch, a generator continues across epochs instead of restarting.
  let carried: AsyncIterator<Batch> | undefined;
  return {
    open(_epoch, steps) {
      if (steps === undefined) return iterable[Symbol.asyncIterator]();
      carried ??= iterable[Symbol.asyncIterator]();
      let source = carried;
      let left = steps;
      return {
        next: async () => {
          if (left-- <= 0) return { done: true, value: undefined };
          let result = await source.next();
          if (result.done) {
            // Exhausted within the epoch: restart once (a re-iterable source) to fill the steps.
            carried = iterable[Symbol.asyncIterator]();
            source = carried;
            result = await source.next();
          }
          return result;
        },
      };
    },
    dispose() {
      void carried?.return?.();
    },
  };
}

function datasetIterable(dataset: tf.data.Dataset<tf.TensorContainerObject>): AsyncIterable<Batch> {
  return {
    async *[Symbol.asyncIterator]() {
      const iterator = await dataset.iterator();
      for (;;) {
        const result = await iterator.next();
        if (result.done) return;
        yield result.value as unknown as Batch;
      }
    },
  };
}

function limit(iterator: AsyncIterator<Batch>, steps: number | undefined): AsyncIterator<Batch> {
  if (steps === undefined) return iterator;
  let left = steps;
  return {
    next: async () => {
      if (left-- <= 0) {
        await iterator.return?.();
        return { done: true, value: undefined };
      }
      return iterator.next();
    },
    return: async () => (await iterator.return?.()) ?? { done: true, value: undefined },
  };
}

/** Turns any accepted data into an {@link EpochReader}. */
export function readData(data: TrainingData, options: TensorReadOptions): EpochReader {
  return isTensorData(data) ? readTensors(data, options) : readBatches(data);
}
