import * as tf from '@tensorflow/tfjs';
import { defer, finalize, tap, type MonoTypeOperatorFunction } from 'rxjs';
import {
  controlOf,
  decisionFold,
  type Decider,
  type MissingMonitor,
  type RunControl,
  type TrainingEvent,
} from '@rxfit/core';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOptions,
  monitorCheck,
  monitorSettings,
} from '@rxfit/core/operator-kit';
import {
  earlyStoppingDeciderOf,
  type EarlyStoppingCommand,
  type EarlyStoppingConfig,
  type EarlyStoppingState,
} from './decider.js';

/** The name the operator gives in `stopRequested.by`, warnings and its custom events. */
export const EARLY_STOPPING = 'earlyStopping';

/**
 * The name of the `custom` event emitted after the best weights were set back at the end of a
 * run: `data` is {@link WeightsRestoredData}.
 */
export const WEIGHTS_RESTORED_EVENT = 'weightsRestored';

/** The `data` of a {@link WEIGHTS_RESTORED_EVENT} event. */
export interface WeightsRestoredData {
  readonly by: string;
  /** The epoch whose end-of-epoch weights the model now holds. */
  readonly epoch: number;
  readonly monitor: string;
  /** The monitored value at that epoch. */
  readonly value: number;
}

/** Options of {@link earlyStopping}; every field is optional. */
export interface EarlyStoppingOptions {
  /** The `epochEnd` log key to watch. @default 'val_loss' */
  readonly monitor?: string;
  /** The smallest change that counts as an improvement (its absolute value is used). @default 0 */
  readonly minDelta?: number;
  /** Monitored epochs without improvement after which the run stops. @default 0 */
  readonly patience?: number;
  /**
   * `min`, `max`, or `auto`: loss- and error-like names (`loss`, `val_loss`, `mse`, `mae`, ...)
   * are minimised, accuracy-, AUC-, precision-, recall-, F1-like names maximised; for any other
   * name the run fails at `trainBegin` (once it is known the name is not a typo). @default 'auto'
   */
  readonly mode?: 'auto' | 'min' | 'max';
  /**
   * A monitor the run does not log: `'error'` fails the run at `trainBegin`, naming the keys it
   * logs and the closest one; `'warn'` warns once and goes on without stopping, as Keras does.
   * @default 'error'
   */
  readonly missingMonitor?: MissingMonitor;
  /**
   * A value an improvement must also beat to reset the wait counter (Keras 3): if no epoch beats
   * it, the run stops after `patience` monitored epochs. @default undefined
   */
  readonly baseline?: number;
  /** Set the best epoch's weights back when the run ends (completed or stopped, by anyone). @default false */
  readonly restoreBestWeights?: boolean;
  /** Epochs before this one are ignored (a warm-up). @default 0 */
  readonly startFromEpoch?: number;
  /** Lightning's `stopping_threshold`: stop as soon as the monitor is strictly better than this. @default undefined */
  readonly stoppingThreshold?: number;
  /** Lightning's `divergence_threshold`: stop as soon as the monitor is strictly worse than this. @default undefined */
  readonly divergenceThreshold?: number;
  /** Lightning's `check_finite`: stop when the monitor is NaN or ±Infinity. @default true */
  readonly checkFinite?: boolean;
}

const KNOWN_OPTIONS = [
  'monitor',
  'minDelta',
  'patience',
  'mode',
  'baseline',
  'restoreBestWeights',
  'startFromEpoch',
  'stoppingThreshold',
  'divergenceThreshold',
  'checkFinite',
  'missingMonitor',
] as const;

/**
 * Validates options and resolves them into the decider's settings (`mode: 'auto'` becomes a direction).
 *
 * ## Example
 * ```ts
 * const config = earlyStoppingConfig({ monitor: 'val_acc', patience: 3 }); // config.direction === 'max'
 * ```
 * @param options - See {@link EarlyStoppingOptions}.
 * @returns The resolved settings.
 * @throws TypeError for an option of the wrong type or an unknown option; RangeError for a value
 * out of range, or a monitor whose direction `mode: 'auto'` cannot infer.
 */
export function earlyStoppingConfig(options: EarlyStoppingOptions = {}): EarlyStoppingConfig {
  const owner = EARLY_STOPPING;
  checkOptions(owner, options, KNOWN_OPTIONS);
  const {
    monitor = 'val_loss',
    minDelta = 0,
    patience = 0,
    mode = 'auto',
    baseline,
    restoreBestWeights = false,
    startFromEpoch = 0,
    stoppingThreshold,
    divergenceThreshold,
    checkFinite = true,
    missingMonitor = 'error',
  } = options;
  const settings = monitorSettings(owner, monitor, mode, missingMonitor);
  checkNumber(owner, 'minDelta', minDelta);
  checkInteger(owner, 'patience', patience, 0);
  if (baseline !== undefined) checkNumber(owner, 'baseline', baseline);
  checkBoolean(owner, 'restoreBestWeights', restoreBestWeights);
  checkInteger(owner, 'startFromEpoch', startFromEpoch, 0);
  if (stoppingThreshold !== undefined) checkNumber(owner, 'stoppingThreshold', stoppingThreshold);
  if (divergenceThreshold !== undefined)
    checkNumber(owner, 'divergenceThreshold', divergenceThreshold);
  checkBoolean(owner, 'checkFinite', checkFinite);
  return {
    settings,
    monitor,
    // Without a direction the run fails at trainBegin (monitorCheck): 'min' is never used.
    direction: settings.direction ?? 'min',
    minDelta: Math.abs(minDelta),
    patience,
    baseline,
    startFromEpoch,
    stoppingThreshold,
    divergenceThreshold,
    checkFinite,
    restoreBestWeights,
  };
}

/**
 * Early stopping's decision alone, for what-ifs over recorded runs: the same pure fold the
 * operator runs (core's `Decider` contract), with the same options and validation.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { earlyStoppingDecider } from '@rxfit/early-stopping';
 * // Where would patience 10 have stopped this recorded run?
 * const fold = decisionFold(earlyStoppingDecider({ monitor: 'val_loss', patience: 10 }));
 * for (const event of recordedEvents) fold.next(event);
 * console.log(fold.state.stoppedEpoch);
 * ```
 * @param options - See {@link EarlyStoppingOptions}.
 * @returns The decider: `initialState()`, `decide(state, event)`.
 * @throws TypeError/RangeError for bad options, as {@link earlyStopping}.
 */
export function earlyStoppingDecider(
  options: EarlyStoppingOptions = {},
): Decider<EarlyStoppingState, EarlyStoppingCommand> {
  return earlyStoppingDeciderOf(earlyStoppingConfig(options));
}

/**
 * Keras' `EarlyStopping` as an operator: stops the run when the monitored quantity has stopped
 * improving, and can set the best epoch's weights back when the run ends.
 *
 * It follows Keras 3's algorithm (the wait counter grows before the comparison, `baseline` only
 * gates its reset, patience never stops epoch 0) and adds Lightning's `stoppingThreshold`,
 * `divergenceThreshold` and `checkFinite`. The `stopRequested` event's `details` say why
 * (`cause`, `monitor`, `value`, `best`, `bestEpoch`, `patience`, `wait`). Replayed events rebuild
 * the counters without side effects, so a resumed run keeps counting. State lives per
 * subscription: one operator serves any number of runs.
 *
 * ## Example
 * ```ts
 * import { fit } from '@rxfit/core';
 * import { earlyStopping } from '@rxfit/early-stopping';
 * const run$ = fit(model, data, { epochs: 100, validationSplit: 0.2 }).pipe(
 *   earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true }),
 * );
 * ```
 * @param options - See {@link EarlyStoppingOptions}.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError/RangeError at call time for bad options (see {@link earlyStoppingConfig}).
 */
export function earlyStopping(
  options: EarlyStoppingOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  const config = earlyStoppingConfig(options);
  return (source) =>
    defer(() => {
      const fold = decisionFold(earlyStoppingDeciderOf(config));
      const checkMonitor = monitorCheck(config.settings);
      // The best epoch's weights, kept (tf.keep) until the run ends; the only tensors we own.
      let kept: { epoch: number; value: number; weights: tf.Tensor[] } | undefined;
      let warnedNoModel = false;
      const release = () => {
        if (!kept) return;
        for (const weight of kept.weights) weight.dispose();
        kept = undefined;
      };

      const apply = (decision: EarlyStoppingCommand, run: RunControl) => {
        switch (decision.kind) {
          case 'warnMissingMonitor':
            run.warn(decision.message, { by: EARLY_STOPPING });
            break;
          case 'monitored': {
            if (!config.restoreBestWeights || (!decision.improved && kept)) break;
            const model = run.model;
            if (!model) {
              if (!warnedNoModel) {
                warnedNoModel = true;
                const message =
                  'restoreBestWeights: this run exposes no model, so no weights are kept';
                run.warn(message, { by: EARLY_STOPPING });
              }
              break;
            }
            // Keras keeps the first monitored epoch's weights even when it is no improvement (it
            // matters after a resume, whose best epoch was replayed and has no weights here).
            // getWeights() returns the live variables: clone them, the optimizer reassigns those.
            const weights = model.getWeights().map((weight) => tf.keep(weight.clone()));
            release();
            kept = { epoch: decision.epoch, value: decision.value, weights };
            break;
          }
          case 'stop':
            run.stop(decision.reason, { by: EARLY_STOPPING, details: decision.details });
            break;
          case 'restoreBestWeights': {
            if (!kept || !run.model) break;
            run.model.setWeights(kept.weights);
            const { bestEpoch } = fold.state;
            if (bestEpoch !== undefined && bestEpoch !== kept.epoch) {
              run.warn(
                `restoreBestWeights: the best epoch (${bestEpoch}) was replayed from a log and its weights are not available; restoring epoch ${kept.epoch} instead`,
                { by: EARLY_STOPPING },
              );
            }
            const data: WeightsRestoredData = {
              by: EARLY_STOPPING,
              epoch: kept.epoch,
              monitor: config.monitor,
              value: kept.value,
            };
            run.emit(WEIGHTS_RESTORED_EVENT, data);
            break;
          }
        }
      };

      return source.pipe(
        tap((event) => {
          const run = controlOf(event, EARLY_STOPPING);
          checkMonitor(event, run);
          const commands = fold.next(event);
          // Replayed events only rebuild the state: no stop, no warning, no weights.
          if (run) for (const command of commands) apply(command, run);
          // Synchronous, so operators further down see the restored weights at trainEnding
          // (Keras' list order), and nothing is held once the run is over.
          if (event.type === 'trainEnding' || event.type === 'trainEnd') release();
        }),
        finalize(release),
      );
    });
}
