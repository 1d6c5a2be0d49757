import * as tf from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import { randomUUID } from 'node:crypto';
import {
  batchLength,
  disposeBatch,
  isTensorData,
  readData,
  splitTensors,
  type Batch,
  type EpochReader,
  type TensorData,
  type TrainingData,
} from './data.js';
import type { DataSourceData, TrainingEvent } from './events.js';
import { getLearningRate, setLearningRate } from './learning-rate.js';
import { RunEngine } from './run-engine.js';
import { runLoop, type BatchStep, type StepPort } from './run-loop.js';
import { checkBoolean, checkInteger, checkNumber, checkOptions } from './validate.js';

/** Options of {@link fit}; every field is optional. */
export interface FitOptions {
  /** The epoch to stop before (Keras' `epochs`). @default 1 */
  readonly epochs?: number;
  /** The first epoch to run, for resuming. @default 0 */
  readonly initialEpoch?: number;
  /** Samples per batch for in-memory tensors. @default 32 */
  readonly batchSize?: number;
  /** Shuffle in-memory tensors each epoch. @default true */
  readonly shuffle?: boolean;
  /** Seeds the shuffle of in-memory tensors: the order depends on (seed, epoch) only. */
  readonly seed?: number;
  /** Fraction of in-memory tensors held out (the last samples, before shuffling) for validation. */
  readonly validationSplit?: number;
  /** Data evaluated at the end of each epoch into `val_*` logs. */
  readonly validationData?: TrainingData;
  /** Batches per epoch (Keras' `steps_per_epoch`); default: one pass over the data. */
  readonly stepsPerEpoch?: number;
  /** Batches per validation; default: one pass over the validation data. */
  readonly validationSteps?: number;
  /** Aborting it cancels the run at the next batch boundary; the stream errors with its reason. */
  readonly signal?: AbortSignal;
  /** The run's id. @default a random UUID */
  readonly runId?: string;
  /** The `seq` of the first event (a resumed run continues its log). @default 0 */
  readonly firstSeq?: number;
  /**
   * Print each warning event that no logger in the pipe reported (`process.emitWarning`, type
   * `RxfitWarning`, once per distinct warning), so a pipe without a logger still says it.
   * @default true
   */
  readonly printWarnings?: boolean;
}

const FIT_OPTIONS = [
  'epochs',
  'initialEpoch',
  'batchSize',
  'shuffle',
  'seed',
  'validationSplit',
  'validationData',
  'stepsPerEpoch',
  'validationSteps',
  'signal',
  'runId',
  'firstSeq',
  'printWarnings',
] as const;

/** Keras' `fit` arguments that are not options here, and what to do instead. */
const FIT_HINTS = {
  callbacks:
    'rxfit callbacks are RxJS operators, composed with pipe: fit(model, data, options).pipe(earlyStopping(...), modelCheckpoint(...))',
};

const trainingModels = new WeakMap<tf.LayersModel, ModelLock>();

/**
 * Trains a compiled tfjs model; the run is a cold Observable of training events.
 *
 * Subscribing starts one run; unsubscribing cancels it at the next batch boundary. Operators
 * steer the run through {@link controlOf}. The stream completes after `trainEnd` and after all
 * deferred work settled; it errors with a {@link TrainingError} that names the epoch and batch.
 *
 * ## Example
 * ```ts
 * import { fit, toHistory } from '@rxfit/core';
 * const history = await lastValueFrom(fit(model, { xs, ys }, { epochs: 5, validationSplit: 0.2 }).pipe(toHistory()));
 * ```
 * @param model - A compiled `tf.LayersModel`.
 * @param data - Tensors, a batch source, an async iterable of batches or a `tf.data.Dataset`.
 * @param options - See {@link FitOptions}.
 * @returns The run's events.
 * @throws RangeError/TypeError at call time for bad options.
 */
export function fit(model: tf.LayersModel, data: TrainingData, options: FitOptions = {}): Observable<TrainingEvent> {
  const settings = checkFitOptions(model, data, options);
  return new Observable<TrainingEvent>((subscriber) => {
    const runId = options.runId ?? randomUUID();
    const optimizer = model.optimizer;
    const engine = new RunEngine(subscriber, {
      runId,
      ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
      model,
      learningRate: { get: () => getLearningRate(optimizer), set: (lr) => setLearningRate(optimizer, lr) },
      ...(options.printWarnings === undefined ? {} : { printWarnings: options.printWarnings }),
    });
    const previous = trainingModels.get(model);
    if ((previous && !previous.cancelled) || (!previous && trainingFlag(model).isTraining)) {
      subscriber.error(
        new Error(
          `fit: this model is already training${previous ? ` in run ${previous.runId}` : ' (tfjs model.fit)'}; wait for that run to end or train another model`,
        ),
      );
      return;
    }
    const lock: ModelLock = { runId, cancelled: false, done: Promise.resolve() };
    const checkCancelled = (): boolean => {
      if (options.signal?.aborted) throw options.signal.reason;
      return lock.cancelled;
    };
    // A cancelled run finishes its current step before it lets go of the model: wait for it.
    lock.done = (previous?.done ?? Promise.resolve())
      .then(async () => {
        if (lock.cancelled) return;
        trainingModels.set(model, lock);
        trainingFlag(model).isTraining = true;
        try {
          await runLoop(engine, modelPort(model, data, settings), {
            epochs: settings.epochs,
            initialEpoch: settings.initialEpoch,
            cancelled: checkCancelled,
            // An abort ends the stream with the signal's own reason, as fetch does.
            passThrough: (cause) => settings.signal?.aborted === true && cause === settings.signal.reason,
          });
        } finally {
          engine.close();
          if (trainingModels.get(model) === lock) trainingModels.delete(model);
          trainingFlag(model).isTraining = false;
        }
      })
      .then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
    trainingModels.set(model, lock);
    return () => {
      lock.cancelled = true;
    };
  });
}

/** Who trains a model now; a cancelled run keeps it until its current step is done. */
interface ModelLock {
  readonly runId: string;
  cancelled: boolean;
  done: Promise<void>;
}

interface FitSettings {
  readonly epochs: number;
  readonly initialEpoch: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number | undefined;
  readonly validationSplit: number | undefined;
  readonly validationData: TrainingData | undefined;
  readonly stepsPerEpoch: number | undefined;
  readonly validationSteps: number | undefined;
  readonly signal: AbortSignal | undefined;
}

function checkFitOptions(model: tf.LayersModel, data: TrainingData, options: FitOptions): FitSettings {
  if (!(model instanceof tf.LayersModel)) {
    if (typeof (model as { trainOnBatch?: unknown } | null)?.trainOnBatch === 'function') {
      throw new TypeError(
        'fit: the model was made by another copy of @tensorflow/tfjs than the one @rxfit/core loads. ' +
          'An app must hold exactly one copy: `npm ls @tensorflow/tfjs` shows them; install @tensorflow/tfjs ' +
          'once in your project (rxfit declares it as a peer dependency) and remove nested copies.',
      );
    }
    throw new TypeError('fit: model must be a tf.LayersModel (tf.sequential() or tf.model())');
  }
  if (!model.optimizer) {
    throw new TypeError('fit: the model is not compiled: call model.compile({ optimizer, loss }) first');
  }
  checkOptions('fit', options, FIT_OPTIONS, FIT_HINTS);
  const { epochs = 1, initialEpoch = 0, batchSize = 32, shuffle = true } = options;
  if (options.printWarnings !== undefined) checkBoolean('fit', 'printWarnings', options.printWarnings);
  checkInteger('fit', 'epochs', epochs, 1);
  checkInteger('fit', 'initialEpoch', initialEpoch, 0);
  checkInteger('fit', 'batchSize', batchSize, 1);
  if (options.stepsPerEpoch !== undefined) checkInteger('fit', 'stepsPerEpoch', options.stepsPerEpoch, 1);
  if (options.validationSteps !== undefined) checkInteger('fit', 'validationSteps', options.validationSteps, 1);
  if (options.seed !== undefined) checkInteger('fit', 'seed', options.seed, 0);
  if (options.firstSeq !== undefined) checkInteger('fit', 'firstSeq', options.firstSeq, 0);
  if (typeof shuffle !== 'boolean') throw new TypeError(`fit: shuffle must be a boolean, got ${String(shuffle)}`);
  if (options.validationSplit !== undefined) {
    checkNumber('fit', 'validationSplit', options.validationSplit, { min: 0, max: 1, open: true });
    if (!isTensorData(data)) {
      throw new TypeError('fit: validationSplit needs in-memory { xs, ys } tensors; give validationData for other data');
    }
    if (options.validationData !== undefined) {
      throw new TypeError('fit: give validationSplit or validationData, not both');
    }
  }
  if (initialEpoch >= epochs) {
    throw new RangeError(`fit: initialEpoch (${initialEpoch}) must be less than epochs (${epochs})`);
  }
  return {
    epochs,
    initialEpoch,
    batchSize,
    shuffle,
    seed: options.seed,
    validationSplit: options.validationSplit,
    validationData: options.validationData,
    stepsPerEpoch: options.stepsPerEpoch,
    validationSteps: options.validationSteps,
    signal: options.signal,
  };
}

/** Trains a model on data: the step port of the one loop ({@link runLoop}). */
function modelPort(model: tf.LayersModel, data: TrainingData, settings: FitSettings): StepPort {
  const readers: EpochReader[] = [];
  const owned: tf.Tensor[] = [];
  const names = model.metricsNames;
  const sources: DataSourceData[] = [];
  let training: EpochReader | undefined;
  let validation: EpochReader | undefined;
  // In-memory validation tensors are evaluated in one model.evaluate call, batched inside tfjs as
  // model.fit's own validation is: per-batch evaluate calls cost 8% of an MLP epoch.
  let validationTensors: TensorData | undefined;
  return {
    sources,
    begin() {
      let trainData = data;
      let validationData = settings.validationData;
      if (settings.validationSplit !== undefined && isTensorData(data)) {
        const split = splitTensors(data, settings.validationSplit);
        owned.push(...allTensors(split.train), ...allTensors(split.validation));
        trainData = split.train;
        validationData = split.validation;
      }
      const tensorOptions = { batchSize: settings.batchSize, shuffle: settings.shuffle, seed: settings.seed };
      training = readData(trainData, tensorOptions);
      readers.push(training);
      validation = validationData ? readData(validationData, { ...tensorOptions, shuffle: false }) : undefined;
      if (validationData && isTensorData(validationData) && settings.validationSteps === undefined) {
        validationTensors = validationData;
      }
      if (validation) readers.push(validation);
      if (training.description) sources.push({ role: 'training', description: training.description });
      if (validation?.description) sources.push({ role: 'validation', description: validation.description });
      return {
        epochs: settings.epochs,
        initialEpoch: settings.initialEpoch,
        ...optional('stepsPerEpoch', settings.stepsPerEpoch ?? training.batchesPerEpoch),
        ...optional('samples', training.samples),
        ...optional('batchSize', training.batchSize),
        metrics: validation ? [...names, ...names.map((n) => `val_${n}`)] : [...names],
        backend: backendDescription(),
      };
    },
    steps(epoch) {
      const batches = training!.open(epoch, settings.stepsPerEpoch);
      return {
        next: async (): Promise<IteratorResult<BatchStep>> => {
          const next = await batches.next();
          if (next.done === true) return { done: true, value: undefined };
          const batch = next.value;
          const step: BatchStep = async () => {
            try {
              const values = await trainStep(model, batch);
              const logs: Record<string, number> = {};
              names.forEach((name, i) => (logs[name] = values[i]!));
              logs['size'] = batchLength(batch);
              return logs;
            } finally {
              disposeBatch(batch);
            }
          };
          return { done: false, value: step };
        },
        return: async (): Promise<IteratorResult<BatchStep>> => {
          await batches.return?.();
          return { done: true, value: undefined };
        },
      };
    },
    async endEpoch(epoch, batchLogs) {
      // Keras and tfjs report epoch logs as the batch values averaged, weighted by batch size.
      const logs: Record<string, number> = {};
      let seen = 0;
      for (const batch of batchLogs) seen += batch['size']!;
      for (const name of names) {
        let total = 0;
        for (const batch of batchLogs) total += batch[name]! * batch['size']!;
        logs[name] = total / seen;
      }
      if (validation) {
        const validationLogs = validationTensors
          ? await evaluateTensors(model, validationTensors, settings.batchSize)
          : await evaluate(model, validation, epoch, settings.validationSteps);
        for (const [name, value] of Object.entries(validationLogs)) logs[`val_${name}`] = value;
      }
      return logs;
    },
    dispose() {
      for (const reader of readers) reader.dispose();
      tf.dispose(owned);
    },
  };
}

/** One optimizer step on one batch; returns the loss and metric values in `metricsNames` order. */
async function trainStep(model: tf.LayersModel, batch: Batch): Promise<number[]> {
  const result = await model.trainOnBatch(batch.xs as tf.Tensor | tf.Tensor[], batch.ys as tf.Tensor | tf.Tensor[]);
  return Array.isArray(result) ? result : [result];
}

/** Keras' `evaluate` over validation batches: metric means weighted by batch size. */
async function evaluate(
  model: tf.LayersModel,
  validation: EpochReader,
  epoch: number,
  steps: number | undefined,
): Promise<Record<string, number>> {
  const names = model.metricsNames;
  // Summed on the device and read once per validation, as tfjs' testLoop does: a host read per
  // batch made validation 9% slower than model.fit's (bench/fit-overhead.ts).
  let totals: tf.Tensor[] | undefined;
  let seen = 0;
  const batches = validation.open(epoch, steps);
  try {
    for (let next = await batches.next(); !next.done; next = await batches.next()) {
      const size = batchLength(next.value);
      const batch = next.value;
      const previous = totals;
      try {
        totals = tf.tidy(() => {
          const scalars = model.evaluate(batch.xs as tf.Tensor, batch.ys as tf.Tensor, { batchSize: size });
          const list = Array.isArray(scalars) ? scalars : [scalars];
          return list.map((s, i) => {
            const weighted = tf.mul(s, size);
            return previous ? tf.add(previous[i]!, weighted) : weighted;
          });
        });
      } finally {
        disposeBatch(batch);
        if (previous && totals !== previous) tf.dispose(previous);
      }
      seen += size;
    }
    if (!totals || seen === 0) throw new Error('the validation data yielded no batch');
    const summed = totals;
    const means = tf.tidy(() => tf.div(tf.stack(summed), seen));
    try {
      const values = await means.data();
      return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
    } finally {
      means.dispose();
    }
  } finally {
    if (totals) tf.dispose(totals);
  }
}

/** Keras' `evaluate` over in-memory tensors: one call, batched by tfjs, values read once. */
async function evaluateTensors(model: tf.LayersModel, data: TensorData, batchSize: number): Promise<Record<string, number>> {
  const scalars = model.evaluate(data.xs as tf.Tensor, data.ys as tf.Tensor, { batchSize });
  const list = Array.isArray(scalars) ? scalars : [scalars];
  const stacked = tf.stack(list);
  try {
    const values = await stacked.data();
    return Object.fromEntries(model.metricsNames.map((name, i) => [name, values[i]!]));
  } finally {
    tf.dispose([stacked, ...list]);
  }
}

/**
 * `tf.getBackend()`, with the device the backend instance names under
 * `Symbol.for('rxfit.backend.device')` (set by @rxfit/backend's webgpu: `webgpu on nvidia ampere (hardware)`).
 */
function backendDescription(): string {
  const name = tf.getBackend();
  const device = (tf.backend() as unknown as Record<symbol, unknown>)[Symbol.for('rxfit.backend.device')];
  return typeof device === 'string' ? `${name} on ${device}` : name;
}

function allTensors(data: TensorData): tf.Tensor[] {
  const list = (side: tf.Tensor | readonly tf.Tensor[]) => (side instanceof tf.Tensor ? [side] : [...side]);
  return [...list(data.xs), ...list(data.ys)];
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** tfjs' own guard against concurrent `model.fit` calls (protected in its typings). */
function trainingFlag(model: tf.LayersModel): { isTraining: boolean } {
  return model as unknown as { isTraining: boolean };
}
