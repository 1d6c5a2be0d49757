import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions,
} from '@rxfit/core/operator-kit';

/**
 * An epoch schedule: the learning rate for a 0-based absolute `epoch`, given the rate in force
 * now (`lr`). The ready-made schedules below ignore `lr`: they are pure functions of the epoch.
 */
export type Schedule = (epoch: number, lr: number) => number;

/** Options of {@link exponentialDecay}, as `keras.optimizers.schedules.ExponentialDecay`. */
export interface ExponentialDecayOptions {
  /** The rate at epoch 0; finite and ≥ 0. */
  readonly initialLearningRate: number;
  /** Epochs over which the rate is multiplied by `decayRate` once; > 0. */
  readonly decaySteps: number;
  /** The factor applied every `decaySteps` epochs; finite and ≥ 0. */
  readonly decayRate: number;
  /** Decay in whole steps (`floor(epoch / decaySteps)`) instead of continuously. @default false */
  readonly staircase?: boolean;
}

/**
 * Keras' `ExponentialDecay` over epochs:
 * `lr(epoch) = initialLearningRate * decayRate ^ (epoch / decaySteps)`, with the exponent
 * floored when `staircase` is true.
 *
 * ## Example
 * ```ts
 * import { exponentialDecay, learningRateScheduler } from '@rxfit/scheduler';
 * run$.pipe(learningRateScheduler(exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 })));
 * ```
 * @param options - See {@link ExponentialDecayOptions}.
 * @returns The schedule.
 * @throws RangeError/TypeError naming the option and value when an option is invalid.
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const owner = 'exponentialDecay';
  checkOptions(owner, options, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const { initialLearningRate, decaySteps, decayRate, staircase = false } = options;
  checkNumber(owner, 'initialLearningRate', initialLearningRate, { min: 0 });
  checkNumber(owner, 'decaySteps', decaySteps, { min: 0, open: true });
  checkNumber(owner, 'decayRate', decayRate, { min: 0 });
  checkBoolean(owner, 'staircase', staircase);
  return (epoch) => {
    checkEpoch(owner, epoch);
    const p = staircase ? Math.floor(epoch / decaySteps) : epoch / decaySteps;
    return initialLearningRate * decayRate ** p;
  };
}

/** Options of {@link stepDecay}, as PyTorch's `StepLR`. */
export interface StepDecayOptions {
  /** The rate at epoch 0; finite and ≥ 0. */
  readonly initialLearningRate: number;
  /** Epochs between two drops; an integer ≥ 1. */
  readonly stepSize: number;
  /** The factor of each drop; finite and ≥ 0. @default 0.1 */
  readonly gamma?: number;
}

/**
 * Step decay, as PyTorch's `StepLR` (Keras has no built-in equivalent):
 * `lr(epoch) = initialLearningRate * gamma ^ floor(epoch / stepSize)`.
 *
 * ## Example
 * ```ts
 * import { stepDecay, learningRateScheduler } from '@rxfit/scheduler';
 * run$.pipe(learningRateScheduler(stepDecay({ initialLearningRate: 0.1, stepSize: 30 }))); // 0.1, then 0.01 from epoch 30
 * ```
 * @param options - See {@link StepDecayOptions}.
 * @returns The schedule.
 * @throws RangeError/TypeError naming the option and value when an option is invalid.
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  const owner = 'stepDecay';
  checkOptions(owner, options, ['initialLearningRate', 'stepSize', 'gamma']);
  const { initialLearningRate, stepSize, gamma = 0.1 } = options;
  checkNumber(owner, 'initialLearningRate', initialLearningRate, { min: 0 });
  checkInteger(owner, 'stepSize', stepSize, 1);
  checkNumber(owner, 'gamma', gamma, { min: 0 });
  return (epoch) => {
    checkEpoch(owner, epoch);
    return initialLearningRate * gamma ** Math.floor(epoch / stepSize);
  };
}

/** Options of {@link cosineDecay}, as `keras.optimizers.schedules.CosineDecay`. */
export interface CosineDecayOptions {
  /** The rate at epoch 0 (where the warmup starts, or the decay when there is no warmup); ≥ 0. */
  readonly initialLearningRate: number;
  /** Epochs over which the cosine decays; > 0. */
  readonly decaySteps: number;
  /** The final rate as a fraction of the rate the decay starts from; in [0, 1]. @default 0 */
  readonly alpha?: number;
  /** The rate the linear warmup reaches and the decay starts from; without it there is no warmup. */
  readonly warmupTarget?: number;
  /** Epochs of linear warmup; needs `warmupTarget` when > 0. @default 0 */
  readonly warmupSteps?: number;
}

/**
 * Keras' `CosineDecay` (with optional linear warmup) over epochs. With `w = warmupSteps`,
 * `d = decaySteps`, `e = min(epoch, w + d)` and `from = warmupTarget ?? initialLearningRate`:
 * - warmup, `e < w`: `lr = initialLearningRate + (warmupTarget - initialLearningRate) * e / w`;
 * - decay: `lr = from * ((1 - alpha) * 0.5 * (1 + cos(π * (e - w) / d)) + alpha)`.
 *
 * ## Example
 * ```ts
 * import { cosineDecay, learningRateScheduler } from '@rxfit/scheduler';
 * run$.pipe(learningRateScheduler(cosineDecay({ initialLearningRate: 0, warmupTarget: 0.1, warmupSteps: 5, decaySteps: 45 })));
 * ```
 * @param options - See {@link CosineDecayOptions}.
 * @returns The schedule.
 * @throws RangeError/TypeError naming the option and value when an option is invalid.
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const owner = 'cosineDecay';
  checkOptions(owner, options, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
  const { initialLearningRate, decaySteps, alpha = 0, warmupTarget, warmupSteps = 0 } = options;
  checkNumber(owner, 'initialLearningRate', initialLearningRate, { min: 0 });
  checkNumber(owner, 'decaySteps', decaySteps, { min: 0, open: true });
  checkNumber(owner, 'alpha', alpha, { min: 0, max: 1 });
  checkNumber(owner, 'warmupSteps', warmupSteps, { min: 0 });
  if (warmupTarget !== undefined) checkNumber(owner, 'warmupTarget', warmupTarget, { min: 0 });
  // Keras silently skips the warmup when warmup_target is None; a warmup that cannot happen is
  // almost certainly a mistake, so it fails here instead.
  if (warmupTarget === undefined && warmupSteps > 0) {
    throw new RangeError(
      `${owner}: warmupSteps (${warmupSteps}) needs warmupTarget, the rate the warmup reaches`,
    );
  }
  const decay = (step: number, from: number): number =>
    from * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * (step / decaySteps))) + alpha);
  return (epoch) => {
    checkEpoch(owner, epoch);
    if (warmupTarget === undefined) return decay(Math.min(epoch, decaySteps), initialLearningRate);
    const step = Math.min(epoch, decaySteps + warmupSteps);
    if (step < warmupSteps) {
      return (warmupTarget - initialLearningRate) * (step / warmupSteps) + initialLearningRate;
    }
    return decay(step - warmupSteps, warmupTarget);
  };
}

/** Options of {@link oneCycle}, as PyTorch's `OneCycleLR` with one step per epoch. */
export interface OneCycleOptions {
  /** The peak rate; finite and > 0. */
  readonly maxLearningRate: number;
  /** Epochs in the cycle (PyTorch's `total_steps`); an integer ≥ 1. Epochs past it are an error. */
  readonly totalEpochs: number;
  /** The fraction of the cycle spent increasing the rate; in [0, 1]. @default 0.3 */
  readonly pctStart?: number;
  /** How each phase anneals. @default 'cos' */
  readonly annealStrategy?: 'cos' | 'linear';
  /** The starting rate is `maxLearningRate / divFactor`; > 0. @default 25 */
  readonly divFactor?: number;
  /** The final rate is the starting rate / `finalDivFactor`; > 0. @default 1e4 */
  readonly finalDivFactor?: number;
  /** Three phases as in the original paper (up, back down to the start, then to the minimum). @default false */
  readonly threePhase?: boolean;
}

/**
 * The 1cycle policy, as PyTorch's `OneCycleLR` (fastai's `fit_one_cycle` shape) with one step
 * per epoch. With `T = totalEpochs`, `p = pctStart`, `initial = max / divFactor` and
 * `min = initial / finalDivFactor`, the phases end at epochs `p·T − 1` (initial → max) and
 * `T − 1` (max → min); with `threePhase`: `p·T − 1` (initial → max), `2p·T − 2`
 * (max → initial), `T − 1` (initial → min). Within a phase from `start` to `end` epochs,
 * `pct = (epoch − start) / (end − start)` and `lr = anneal(from, to, pct)`, where
 * `cos`: `to + (from − to) / 2 · (1 + cos(π·pct))`, `linear`: `from + (to − from) · pct`.
 *
 * ## Example
 * ```ts
 * import { oneCycle, learningRateScheduler } from '@rxfit/scheduler';
 * fit(model, data, { epochs: 20 }).pipe(learningRateScheduler(oneCycle({ maxLearningRate: 0.01, totalEpochs: 20 })));
 * ```
 * @param options - See {@link OneCycleOptions}.
 * @returns The schedule.
 * @throws RangeError/TypeError naming the option and value when an option is invalid, or when the
 *   options give a phase of zero length (PyTorch divides by zero there).
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  const owner = 'oneCycle';
  checkOptions(owner, options, [
    'maxLearningRate',
    'totalEpochs',
    'pctStart',
    'annealStrategy',
    'divFactor',
    'finalDivFactor',
    'threePhase',
  ]);
  const {
    maxLearningRate,
    totalEpochs,
    pctStart = 0.3,
    annealStrategy = 'cos',
    divFactor = 25,
    finalDivFactor = 1e4,
    threePhase = false,
  } = options;
  checkNumber(owner, 'maxLearningRate', maxLearningRate, { min: 0, open: true });
  checkInteger(owner, 'totalEpochs', totalEpochs, 1);
  checkNumber(owner, 'pctStart', pctStart, { min: 0, max: 1 });
  checkOneOf(owner, 'annealStrategy', annealStrategy, ['cos', 'linear'] as const);
  checkNumber(owner, 'divFactor', divFactor, { min: 0, open: true });
  checkNumber(owner, 'finalDivFactor', finalDivFactor, { min: 0, open: true });
  checkBoolean(owner, 'threePhase', threePhase);
  const initial = maxLearningRate / divFactor;
  const min = initial / finalDivFactor;
  const phases: readonly { end: number; from: number; to: number }[] = threePhase
    ? [
        { end: pctStart * totalEpochs - 1, from: initial, to: maxLearningRate },
        { end: 2 * pctStart * totalEpochs - 2, from: maxLearningRate, to: initial },
        { end: totalEpochs - 1, from: initial, to: min },
      ]
    : [
        { end: pctStart * totalEpochs - 1, from: initial, to: maxLearningRate },
        { end: totalEpochs - 1, from: maxLearningRate, to: min },
      ];
  const anneal =
    annealStrategy === 'cos'
      ? (from: number, to: number, pct: number) =>
          to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (from: number, to: number, pct: number) => (to - from) * pct + from;
  const lrAt = (epoch: number): number => {
    // PyTorch's OneCycleLR.get_lr, step for step.
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i]!;
      if (epoch <= phase.end || i === phases.length - 1) {
        return anneal(phase.from, phase.to, (epoch - start) / (phase.end - start));
      }
      start = phase.end;
    }
    return min;
  };
  for (let epoch = 0; epoch < totalEpochs; epoch++) {
    if (!Number.isFinite(lrAt(epoch))) {
      throw new RangeError(
        `${owner}: pctStart ${pctStart} with totalEpochs ${totalEpochs}${threePhase ? ' and threePhase' : ''} gives a phase of zero length (at epoch ${epoch}); change pctStart`,
      );
    }
  }
  return (epoch) => {
    checkEpoch(owner, epoch);
    if (epoch >= totalEpochs) {
      throw new RangeError(
        `${owner}: epoch ${epoch} is past the cycle (totalEpochs ${totalEpochs})`,
      );
    }
    return lrAt(epoch);
  };
}

function checkEpoch(owner: string, epoch: unknown): void {
  checkInteger(owner, 'epoch', epoch, 0);
}

