import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import {
  controlOf,
  decisionFold,
  type Decider,
  type MissingMonitor,
  type TrainingEvent,
} from '@rxfit/core';
import {
  checkInteger,
  checkNumber,
  checkOptions,
  failRun,
  monitorCheck,
  type MonitorSettings,
  monitorSettings,
} from '@rxfit/core/operator-kit';
import {
  plateauDeciderOf,
  type PlateauCommand,
  type PlateauConfig,
  type PlateauState,
} from './plateau-decider.js';

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
      const fold = decisionFold(plateauDeciderOf(config));
      const checkMonitor = monitorCheck(monitor);
      return source.pipe(
        tap((event) => {
          const control = controlOf(event, BY);
          checkMonitor(event, control);
          // Keras reads the rate from the optimizer: an operator before this one may have changed
          // it at this very epoch end. A replayed epoch's `lr` log is the rate it had.
          const commands = fold.next(
            control && event.type === 'epochEnd'
              ? { ...event, logs: { ...event.logs, lr: control.learningRate } }
              : event,
          );
          if (!control) return;
          for (const command of commands) {
            if (command.type === 'warn') {
              control.warn(command.message, { by: BY });
              continue;
            }
            try {
              control.setLearningRate(command.to, { by: BY });
            } catch (error) {
              // An optimizer whose rate cannot change fails the run through the loop, as any failure.
              failRun(control, error);
            }
          }
        }),
      );
    });
}

/**
 * ReduceLROnPlateau's decision alone, for what-ifs over recorded runs: the same pure fold the
 * operator runs (core's `Decider` contract), with the same options and validation. The rate in
 * force at a recorded epoch end is its `lr` log.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { reduceLROnPlateauDecider } from '@rxfit/scheduler';
 * const fold = decisionFold(reduceLROnPlateauDecider({ monitor: 'val_loss', patience: 2 }));
 * const reductions = recordedEvents.flatMap((event) => fold.next(event)).filter((c) => c.type === 'reduce');
 * ```
 * @param options - See {@link ReduceLROnPlateauOptions}.
 * @returns The decider: `initialState()`, `decide(state, event)`.
 * @throws RangeError/TypeError for bad options, as {@link reduceLROnPlateau}.
 */
export function reduceLROnPlateauDecider(
  options: ReduceLROnPlateauOptions = {},
): Decider<PlateauState, PlateauCommand> {
  return plateauDeciderOf(resolveOptions(options).config);
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
