import type { Decider, Decision, TrainingEvent } from '@rxfit/core';

/** The sweep's settings the decider needs. */
export interface SweepSettings {
  readonly minLr: number;
  readonly maxLr: number;
  readonly numSteps: number;
  /** The smoothing of the loss: an exponential moving average with this factor, debiased. */
  readonly beta: number;
  /** Stop when the smoothed loss exceeds this factor times the best one; `undefined`: never. */
  readonly divergenceFactor: number | undefined;
}

/** The sweep so far. */
export interface SweepState {
  readonly learningRates: readonly number[];
  /** The smoothed loss after each step. */
  readonly losses: readonly number[];
  /** The loss of each batch as the loop reported it. */
  readonly rawLosses: readonly number[];
  /** The moving average before debiasing. */
  readonly average: number;
  readonly best: number;
  /** Why the sweep ended, once it did. */
  readonly stoppedBy: 'diverged' | 'numSteps' | undefined;
}

/** What the loop must do after an event. */
export type SweepCommand =
  | { readonly type: 'setLearningRate'; readonly learningRate: number }
  | {
      readonly type: 'stop';
      readonly reason: string;
      readonly details: Readonly<Record<string, number>>;
    };

/**
 * The learning rate of step `i` of an exponential sweep from `minLr` (step 0) to `maxLr` (the
 * last step): `minLr · (maxLr / minLr)^(i / (numSteps − 1))`.
 *
 * ## Example
 * ```ts
 * import { sweepLearningRate } from '@rxfit/lr-finder';
 * sweepLearningRate({ minLr: 1e-7, maxLr: 10, numSteps: 100 }, 99); // 10
 * ```
 */
export function sweepLearningRate(
  settings: Pick<SweepSettings, 'minLr' | 'maxLr' | 'numSteps'>,
  step: number,
): number {
  const { minLr, maxLr, numSteps } = settings;
  if (step >= numSteps - 1) return maxLr;
  return minLr * (maxLr / minLr) ** (step / (numSteps - 1));
}

const INITIAL_STATE: SweepState = {
  learningRates: [],
  losses: [],
  rawLosses: [],
  average: 0,
  best: Infinity,
  stoppedBy: undefined,
};

/**
 * The learning-rate sweep as a {@link Decider}: before each batch, the learning rate of its step
 * is set; after it, the loss is smoothed (fastai's and Lightning's debiased moving average) and the
 * sweep stops once `numSteps` batches ran or the smoothed loss diverged (over `divergenceFactor`
 * times the best so far, or not finite). Pure: a replayed sweep gives the same state.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { sweepDecider } from '@rxfit/lr-finder';
 * const fold = decisionFold(sweepDecider({ minLr: 1e-5, maxLr: 1, numSteps: 100, beta: 0.98, divergenceFactor: 4 }));
 * for (const event of loggedSweep) fold.next(event);
 * console.log(fold.state.learningRates, fold.state.losses);
 * ```
 * @param settings - The sweep's settings.
 * @returns The decider.
 */
export function sweepDecider(settings: SweepSettings): Decider<SweepState, SweepCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide: (state, event) => decide(state, event, settings),
  };
}

function decide(
  state: SweepState,
  event: TrainingEvent,
  settings: SweepSettings,
): Decision<SweepState, SweepCommand> {
  if (state.stoppedBy) return { state, commands: [] };
  const step = state.learningRates.length;
  if (event.type === 'batchBegin') {
    const learningRate = sweepLearningRate(settings, step);
    return {
      state: { ...state, learningRates: [...state.learningRates, learningRate] },
      commands: [{ type: 'setLearningRate', learningRate }],
    };
  }
  if (event.type !== 'batchEnd' || state.losses.length >= step) return { state, commands: [] };
  const loss = event.logs['loss'];
  const raw = typeof loss === 'number' ? loss : NaN;
  const average = settings.beta * state.average + (1 - settings.beta) * raw;
  const smoothed = average / (1 - settings.beta ** step);
  const best = Math.min(state.best, smoothed);
  const next: SweepState = {
    ...state,
    losses: [...state.losses, smoothed],
    rawLosses: [...state.rawLosses, raw],
    average,
    best: Number.isNaN(smoothed) ? state.best : best,
  };
  const factor = settings.divergenceFactor;
  if (!Number.isFinite(smoothed) || (factor !== undefined && smoothed > factor * best)) {
    return {
      state: { ...next, stoppedBy: 'diverged' },
      commands: [
        {
          type: 'stop',
          reason: Number.isFinite(smoothed)
            ? `the smoothed loss diverged at learning rate ${state.learningRates[step - 1]}: ${smoothed} > ${factor} × the best ${best}`
            : `the loss is ${raw} at learning rate ${state.learningRates[step - 1]}`,
          details: { step: step - 1, smoothedLoss: smoothed, bestLoss: best },
        },
      ],
    };
  }
  if (step >= settings.numSteps) {
    return {
      state: { ...next, stoppedBy: 'numSteps' },
      commands: [
        {
          type: 'stop',
          reason: `swept ${settings.numSteps} learning rates up to ${settings.maxLr}`,
          details: { step: step - 1 },
        },
      ],
    };
  }
  return { state: next, commands: [] };
}
