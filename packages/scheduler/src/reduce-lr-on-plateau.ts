import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, type MissingMonitor, type TrainingEvent } from '@rxfit/core';
import {
  checkInteger,
  checkNumber,
  checkOptions,
  failRun,
  monitorCheck,
  type MonitorSettings,
  monitorSettings,
} from '@rxfit/core/operator-kit';
import { initialState, reduce, type PlateauConfig } from './reducer.js';

const BY = 'reduceLROnPlateau';

/** Options of {@link reduceLROnPlateau}; the defaults are Keras'. */
export interface ReduceLROnPlateauOptions {
  /** The log key to watch. @default 'val_loss' */
  readonly monitor?: string;
  /** `newLr = max(lr * factor, minLr)`; in [0, 1). @default 0.1 */
  readonly factor?: number;
  /** Epochs without improvement (outside cooldown) before a reduction; an integer ≥ 0. @default 10 */
  readonly patience?: number;
  /** The least change that counts as an improvement (its sign is ignored). @default 1e-4 */
  readonly minDelta?: number;
  /** The cooldown counter after a reduction (Keras counts it so that `c` blocks `c - 1` epochs). @default 0 */
  readonly cooldown?: number;
  /** The floor of the rate; ≥ 0. @default 0 */
  readonly minLr?: number;
  /** Whether the monitored value should fall (`min`) or rise (`max`); `auto` infers it from the name. @default 'auto' */
  readonly mode?: 'auto' | 'min' | 'max';
  /**
   * A monitor the run does not log: `'error'` fails the run at `trainBegin` (naming the keys it
   * logs and the closest one); `'warn'` warns once and never reduces, as Keras does. @default 'error'
   */
  readonly missingMonitor?: MissingMonitor;
}

const KNOWN_OPTIONS = [
  'monitor',
  'factor',
  'patience',
  'minDelta',
  'cooldown',
  'minLr',
  'mode',
  'missingMonitor',
] as const;

/**
 * Keras' `ReduceLROnPlateau`: multiplies the learning rate by `factor` when `monitor` has not
 * improved for `patience` epochs, then waits `cooldown` before counting again. Each reduction is
 * a `learningRateChanged` event by `'reduceLROnPlateau'`; a missing monitor gives one warning
 * event per run. Replayed events rebuild the state (best, wait, cooldown) and change nothing.
 *
 * ## Example
 * ```ts
 * import { reduceLROnPlateau } from '@rxfit/scheduler';
 * fit(model, data, { epochs: 50, validationSplit: 0.2 }).pipe(
 *   reduceLROnPlateau({ monitor: 'val_loss', factor: 0.2, patience: 5, minLr: 0.001 }),
 * );
 * ```
 * @param options - See {@link ReduceLROnPlateauOptions}.
 * @returns An operator that passes every event through unchanged; its state lives per subscription.
 * @throws RangeError/TypeError naming the option and value for a bad option, including a
 *   `monitor` whose direction `mode: 'auto'` cannot infer.
 */
export function reduceLROnPlateau(
  options: ReduceLROnPlateauOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  const { config, monitor } = resolveOptions(options);
  return (source) =>
    defer(() => {
      let state = initialState();
      const checkMonitor = monitorCheck(monitor);
      return source.pipe(
        tap((event) => {
          const control = controlOf(event, BY);
          checkMonitor(event, control);
          const step = reduce(state, event, config, control?.learningRate);
          state = step.state;
          if (!control || !step.decision) return;
          if (step.decision.type === 'warn') {
            control.warn(step.decision.message, { by: BY });
            return;
          }
          try {
            control.setLearningRate(step.decision.to, { by: BY });
          } catch (error) {
            // An optimizer whose rate cannot change fails the run through the loop, as any failure.
            failRun(control, error);
          }
        }),
      );
    });
}

function resolveOptions(options: ReduceLROnPlateauOptions): {
  config: PlateauConfig;
  monitor: MonitorSettings;
} {
  checkOptions(BY, options, KNOWN_OPTIONS);
  const {
    monitor = 'val_loss',
    factor = 0.1,
    patience = 10,
    minDelta = 1e-4,
    cooldown = 0,
    minLr = 0,
    mode = 'auto',
    missingMonitor = 'error',
  } = options;
  const settings = monitorSettings(BY, monitor, mode, missingMonitor);
  checkNumber(BY, 'factor', factor, { min: 0 });
  if (factor >= 1) {
    throw new RangeError(
      `${BY}: factor must be < 1 (the rate is multiplied by it to reduce it), got ${factor}`,
    );
  }
  checkInteger(BY, 'patience', patience, 0);
  checkNumber(BY, 'minDelta', minDelta);
  checkInteger(BY, 'cooldown', cooldown, 0);
  checkNumber(BY, 'minLr', minLr, { min: 0 });
  // Without a direction the run fails at trainBegin (monitorCheck) before 'min' is used.
  const direction = settings.direction ?? 'min';
  return {
    config: { monitor, direction, factor, patience, minDelta: Math.abs(minDelta), cooldown, minLr },
    monitor: settings,
  };
}
