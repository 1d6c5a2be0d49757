import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import { controlOf, decisionFold, fit, type TrainingData, type TrainingEvent } from '@rxfit/core';
import { checkInteger, checkNumber, checkOneOf, checkOptions } from '@rxfit/core/operator-kit';
import { writeSweepPlot } from './plot.js';
import { sweepDecider, type SweepSettings } from './decider.js';
import {
  SUGGESTION_METHODS,
  suggestLearningRates,
  type SuggestionMethod,
  type Suggestions,
} from './suggest.js';

const BY = 'lrFinder';

/** Options of {@link findLearningRate}; the sweep's defaults are fastai's. */
export interface FindLearningRateOptions {
  /** The learning rate of the first step. @default 1e-7 */
  readonly minLr?: number;
  /** The learning rate of the last step. @default 10 */
  readonly maxLr?: number;
  /** Steps (batches) of the sweep, across epochs if the data has fewer batches. @default 100 */
  readonly numSteps?: number;
  /** Smoothing of the loss: the debiased moving average's factor (0: none). @default 0.98 */
  readonly beta?: number;
  /** Stop when the smoothed loss exceeds this factor times the best one; `null`: never. @default 4 */
  readonly divergenceFactor?: number | null;
  /** The rule that gives `suggestion`: `valley` (fastai's default), `steepest` (Lightning's), `minimum` (minimum / 10). @default 'valley' */
  readonly suggest?: SuggestionMethod;
  /** Write the curve to `<plot>.svg` and `<plot>.png`. @default no plot */
  readonly plot?: string;
  /** Operators the sweep's events go through (log it with `eventLog`, show it with a logger). @default none */
  readonly operators?: readonly MonoTypeOperatorFunction<TrainingEvent>[];
  /** Samples per batch for in-memory tensors (fit's `batchSize`). @default 32 */
  readonly batchSize?: number;
  /** Shuffle in-memory tensors (fit's `shuffle`). @default true */
  readonly shuffle?: boolean;
  /** Seed of the shuffle (fit's `seed`). @default none */
  readonly seed?: number;
  /** The sweep's run id (fit's `runId`). @default a random UUID */
  readonly runId?: string;
  /** Aborting it cancels the sweep (the model is restored all the same). */
  readonly signal?: AbortSignal;
}

/** What {@link findLearningRate} found. */
export interface LearningRateFinderResult {
  /** The learning rate of each step. */
  readonly learningRates: readonly number[];
  /** The smoothed loss after each step (what the suggestions and the plot use). */
  readonly losses: readonly number[];
  /** The loss of each batch as the loop reported it. */
  readonly rawLosses: readonly number[];
  /** The `suggest` rule's learning rate; `undefined` when the sweep was too short for it. */
  readonly suggestion: number | undefined;
  /** Every rule's suggestion. */
  readonly suggestions: Suggestions;
  /** Why the sweep ended: it diverged, or it ran `numSteps` batches. */
  readonly stoppedBy: 'diverged' | 'numSteps';
  /** The plot's files, with `plot`. */
  readonly plot?: { readonly svg: string; readonly png: string };
}

/**
 * The learning-rate range test (Leslie Smith), as Lightning's `Tuner.lr_find` and fastai's
 * `lr_find` run it: the learning rate grows exponentially from `minLr` to `maxLr` over
 * `numSteps` batches of rxfit's own `fit` loop (so the sweep's events can be logged and
 * replayed like any run), the loss is smoothed, and the sweep stops when it diverges. The
 * model's weights and its optimizer are then exactly as before: the sweep trains the model with
 * a copy of the optimizer (its state copied in), and the weights are restored from a copy taken
 * before. Suggestions: `valley` and `minimum` (fastai), `steepest` (Lightning).
 *
 * ## Example
 * ```ts
 * import { findLearningRate } from '@rxfit/lr-finder';
 * const { suggestion, plot } = await findLearningRate(model, { xs, ys }, { plot: 'runs/lr-find' });
 * model.optimizer = tf.train.adam(suggestion);
 * ```
 * @param model - A compiled `tf.LayersModel`; it is left as it was.
 * @param data - What `fit` accepts: tensors, a batch source, a `tf.data.Dataset`, an `imageFolder`.
 * @param options - See {@link FindLearningRateOptions}.
 * @returns The curve and the suggestions.
 * @throws TypeError/RangeError at call time for bad options or a model that is not compiled; the
 *   sweep's errors (bad data, a model that is training) reject the promise.
 */
export function findLearningRate(
  model: tf.LayersModel,
  data: TrainingData,
  options: FindLearningRateOptions = {},
): Promise<LearningRateFinderResult> {
  const settings = checkSettings(options);
  if (!(model instanceof tf.LayersModel) || !model.optimizer) {
    throw new TypeError(
      `${BY}: model must be a compiled tf.LayersModel (call model.compile first)`,
    );
  }
  return sweep(model, data, options, settings);
}

async function sweep(
  model: tf.LayersModel,
  data: TrainingData,
  options: FindLearningRateOptions,
  settings: Settings,
): Promise<LearningRateFinderResult> {
  // Swapping the optimizer under a run in progress would break it: fail before touching anything.
  if ((model as unknown as { isTraining?: boolean }).isTraining === true) {
    throw new Error(`${BY}: this model is training; wait for that run to end before sweeping`);
  }
  const original = model.optimizer;
  const owner = model as unknown as { isOptimizerOwned: boolean };
  const owned = owner.isOptimizerOwned;
  const weights = await copyWeights(model);
  const sweepOptimizer = await copyOptimizer(original);
  const fold = decisionFold(sweepDecider(settings));
  try {
    model.optimizer = sweepOptimizer;
    const sweep$ = fit(model, data, {
      epochs: settings.numSteps,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.shuffle === undefined ? {} : { shuffle: options.shuffle }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.runId === undefined ? {} : { runId: options.runId }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }).pipe(
      tap((event) => {
        const commands = fold.next(event);
        const control = controlOf(event);
        if (!control) return;
        for (const command of commands) {
          if (command.type === 'setLearningRate')
            control.setLearningRate(command.learningRate, { by: BY });
          else control.stop(command.reason, { by: BY, details: command.details });
        }
      }),
    );
    await lastValueFrom(
      settings.operators.reduce<Observable<TrainingEvent>>(
        (run$, operator) => run$.pipe(operator),
        sweep$,
      ),
    );
  } finally {
    model.setWeights(weights);
    tf.dispose(weights);
    model.optimizer = original;
    owner.isOptimizerOwned = owned;
    sweepOptimizer.dispose();
  }
  const { learningRates, losses, rawLosses, stoppedBy } = fold.state;
  // A cancelled step leaves a learning rate without a loss.
  const rates = learningRates.slice(0, losses.length);
  const suggestions = suggestLearningRates(rates, losses, settings.numSteps);
  const result: LearningRateFinderResult = {
    learningRates: rates,
    losses,
    rawLosses,
    suggestion: suggestions[settings.suggest]?.learningRate,
    suggestions,
    stoppedBy: stoppedBy ?? 'numSteps',
  };
  if (settings.plot === undefined) return result;
  return {
    ...result,
    plot: await writeSweepPlot(settings.plot, { learningRates: rates, losses, suggestions }),
  };
}

/** Copies of the model's weights (data copied, not shared), in `model.weights` order. */
async function copyWeights(model: tf.LayersModel): Promise<tf.Tensor[]> {
  return Promise.all(
    model.weights.map(async (weight) => {
      const value = weight.read();
      return tf.tensor(await value.data(), value.shape, value.dtype);
    }),
  );
}

/** Fields of tfjs optimizers that hold state outside `getWeights` (Adam's running β powers). */
const HIDDEN_SCALARS = ['accBeta1', 'accBeta2'] as const;

/** A new optimizer of the same class and config, holding a copy of the original's state. */
async function copyOptimizer(original: tf.Optimizer): Promise<tf.Optimizer> {
  const ctor = original.constructor as tf.serialization.SerializableConstructor<tf.Optimizer>;
  const copy = ctor.fromConfig(ctor, original.getConfig());
  const state = await original.getWeights();
  const clones = state.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
  try {
    // setWeights makes variables of its own from these.
    if (clones.length > 0) await copy.setWeights(clones);
  } finally {
    tf.dispose(clones.map(({ tensor }) => tensor));
    // getWeights returns the variables themselves, except fresh tensors such as Adam's `iter`.
    for (const { tensor } of state) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  for (const name of HIDDEN_SCALARS) {
    const from = (original as unknown as Record<string, unknown>)[name];
    const to = (copy as unknown as Record<string, unknown>)[name];
    if (from instanceof tf.Variable && to instanceof tf.Variable) to.assign(from);
  }
  return copy;
}

interface Settings extends SweepSettings {
  readonly suggest: SuggestionMethod;
  readonly plot: string | undefined;
  readonly operators: readonly MonoTypeOperatorFunction<TrainingEvent>[];
}

const OPTION_NAMES = [
  'minLr',
  'maxLr',
  'numSteps',
  'beta',
  'divergenceFactor',
  'suggest',
  'plot',
  'operators',
  'batchSize',
  'shuffle',
  'seed',
  'runId',
  'signal',
] as const;

/** Lightning's and fastai's spellings of our options. */
const ALIASES: Readonly<Record<string, string>> = {
  min_lr: 'minLr',
  start_lr: 'minLr',
  max_lr: 'maxLr',
  end_lr: 'maxLr',
  num_training: 'numSteps',
  num_it: 'numSteps',
  early_stop_threshold: 'divergenceFactor',
  suggest_funcs: 'suggest',
};

function checkSettings(options: FindLearningRateOptions): Settings {
  if (typeof options === 'object' && options !== null) {
    for (const key of Object.keys(options)) {
      const meant = ALIASES[key];
      if (meant) {
        throw new TypeError(
          `${BY}: unknown option '${key}': Lightning's and fastai's ${key} is ${meant} here, did you mean '${meant}'?`,
        );
      }
    }
  }
  checkOptions(BY, options, OPTION_NAMES);
  const {
    minLr = 1e-7,
    maxLr = 10,
    numSteps = 100,
    beta = 0.98,
    divergenceFactor = 4,
    suggest = 'valley',
    plot,
    operators = [],
  } = options;
  checkNumber(BY, 'minLr', minLr, { min: 0, max: Infinity, open: true });
  checkNumber(BY, 'maxLr', maxLr, { min: 0, max: Infinity, open: true });
  if (maxLr <= minLr)
    throw new RangeError(`${BY}: maxLr (${maxLr}) must be greater than minLr (${minLr})`);
  checkInteger(BY, 'numSteps', numSteps, 2);
  checkNumber(BY, 'beta', beta, { min: 0, max: 1 });
  if (beta === 1) throw new RangeError(`${BY}: beta must be in [0, 1), got 1`);
  if (divergenceFactor !== null) checkNumber(BY, 'divergenceFactor', divergenceFactor, { min: 1 });
  checkOneOf(BY, 'suggest', suggest, SUGGESTION_METHODS);
  if (plot !== undefined && (typeof plot !== 'string' || plot === '')) {
    throw new TypeError(`${BY}: plot must be a non-empty path, got ${JSON.stringify(plot)}`);
  }
  if (!Array.isArray(operators) || !operators.every((operator) => typeof operator === 'function')) {
    throw new TypeError(`${BY}: operators must be an array of RxJS operators`);
  }
  return {
    minLr,
    maxLr,
    numSteps,
    beta,
    divergenceFactor: divergenceFactor ?? undefined,
    suggest,
    plot,
    operators,
  };
}
