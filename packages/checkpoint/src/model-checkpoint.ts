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
  checkNumber,
  checkOptions,
  effectQueue,
  failRun,
  monitorCheck,
  type MonitorSettings,
  monitorSettings,
  unknownLogKey,
} from '@rxfit/core/operator-kit';
import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { dirname, resolve } from 'node:path';
import { checkCheckpointTarget, ensureFolder, nodeFileSystem, type FileSystemPort } from './file-system.js';
import { parseTemplate, pythonFormat, type TemplatePart } from './python-format.js';
import { checkpointDeciderOf, type CheckpointConfig, type CheckpointState, type SavePoint } from './decider.js';
import { saveModel } from './save-model.js';

const NAME = 'modelCheckpoint';
const INTS: ReadonlySet<string> = new Set(['epoch', 'batch']);

/** Options of {@link modelCheckpoint}, Keras' `ModelCheckpoint` arguments in camelCase. */
export interface ModelCheckpointOptions {
  /**
   * The checkpoint directory, a Python `str.format` template filled with `epoch` (1-based), `batch`
   * (1-based, with `saveFreq: N`) and every log key: `'ckpt/{epoch:02d}-{val_loss:.2f}'`.
   */
  readonly filepath: string;
  /** The log key that decides "best". @default 'val_loss' */
  readonly monitor?: string;
  /**
   * `'min'`, `'max'`, or `'auto'`: loss- and error-like names are minimised, accuracy-like names
   * (`acc`, `auc`, `precision`, `recall`, ...) maximised. @default 'auto'
   */
  readonly mode?: 'auto' | 'min' | 'max';
  /**
   * With `saveBestOnly`, a monitor the run does not log: `'error'` fails the run at `trainBegin`
   * (naming the keys it logs and the closest one); `'warn'` warns and saves every epoch, as Keras
   * does. @default 'error'
   */
  readonly missingMonitor?: MissingMonitor;
  /** Save only when the monitored value beats the best so far. @default false */
  readonly saveBestOnly?: boolean;
  /** Save the weights (and optimizer state) without topology; load with `loadWeights`. @default false */
  readonly saveWeightsOnly?: boolean;
  /** `'epoch'`, or save every N batches, counted across epochs. @default 'epoch' */
  readonly saveFreq?: 'epoch' | number;
  /** The initial best value: with `saveBestOnly`, nothing is saved until a value beats it. */
  readonly initialValueThreshold?: number;
  /** Save the optimizer's state (iterations, moments) with the weights. @default true */
  readonly includeOptimizer?: boolean;
  /** The file operations (tests inject failures here). @default nodeFileSystem */
  readonly fileSystem?: FileSystemPort;
}

/**
 * Keras' `ModelCheckpoint` as an operator: saves the model (tfjs layers format, atomically) at
 * each epoch end or every N batches, optionally only when the monitored value improves, and
 * records each save as a `checkpointSaved` event. Saves are handed to the loop with
 * `control.defer`, so they read the weights before the next step changes them. Replayed events
 * update the best value and the batch count, and save nothing.
 *
 * ## Example
 * ```ts
 * import { fit } from '@rxfit/core';
 * import { modelCheckpoint } from '@rxfit/checkpoint';
 * const run$ = fit(model, data, { epochs: 20, validationSplit: 0.2 }).pipe(
 *   modelCheckpoint({ filepath: 'checkpoints/best', monitor: 'val_acc', saveBestOnly: true }),
 * );
 * ```
 * @param options - See {@link ModelCheckpointOptions}.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError/RangeError naming the option when an option is invalid, or when `mode: 'auto'`
 *   cannot tell the direction of `monitor`; SyntaxError naming the template when `filepath` is malformed.
 */
export function modelCheckpoint(
  options: ModelCheckpointOptions,
): MonoTypeOperatorFunction<TrainingEvent> {
  const settings = checkCheckpointOptions(options);
  return (source) =>
    defer(() => {
      const fold = decisionFold(checkpointDeciderOf(settings.config));
      // The target check and the saves, in event order, each awaited before the weights change.
      const effects = effectQueue(NAME);
      const warned = new Set<string>();
      const checkMonitor = settings.config.saveBestOnly ? monitorCheck(settings.monitor) : undefined;
      return source.pipe(
        tap((event) => {
          const control = controlOf(event, NAME);
          checkMonitor?.(event, control);
          if (event.type === 'trainBegin') checkTemplateKeys(settings, event.params.metrics, control);
          if (event.type === 'trainBegin' && control) {
            // The files this run will write are checked before the first batch.
            effects.run(control, () => checkWhereItWrites(settings));
          }
          const points = fold.next(event);
          if (control) for (const point of points) carryOut(point, control);
        }),
      );
      function carryOut(point: SavePoint, control: RunControl): void {
        if (point.warning && !warned.has(point.warning)) {
          warned.add(point.warning);
          control.warn(point.warning, { by: NAME });
        }
        let path: string;
        try {
          // Formatted at every save point, as Keras does, so a bad template fails at once.
          path = formatPath(settings.template, settings.filepath, point);
        } catch (error) {
          failRun(control, error);
          return;
        }
        if (!point.save) return;
        const model = control.model;
        if (!model) {
          failRun(control, new Error(`${NAME}: this run has no model to save (a scriptedRun without a model)`));
          return;
        }
        effects.run(control, async () => {
          await saveModel(model, path, {
            weightsOnly: settings.saveWeightsOnly,
            includeOptimizer: settings.includeOptimizer,
            ...(settings.fileSystem ? { fileSystem: settings.fileSystem } : {}),
          });
          control.checkpointSaved({
            path,
            monitor: settings.config.monitor,
            ...(point.value === undefined ? {} : { value: point.value }),
          });
        });
      }
    });
}

/**
 * ModelCheckpoint's decision alone, for what-ifs over recorded runs: which events are save points
 * and which of them save, as the operator folds them (core's `Decider` contract). Takes the
 * operator's options, validated the same way; nothing is written.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { modelCheckpointDecider } from '@rxfit/checkpoint';
 * const fold = decisionFold(modelCheckpointDecider({ filepath: 'best', monitor: 'val_loss', saveBestOnly: true }));
 * const saved = recordedEvents.flatMap((event) => fold.next(event)).filter((point) => point.save);
 * ```
 * @param options - See {@link ModelCheckpointOptions}.
 * @returns The decider: `initialState()`, `decide(state, event)`; its commands are {@link SavePoint}s.
 * @throws TypeError/RangeError/SyntaxError for bad options, as {@link modelCheckpoint}.
 */
export function modelCheckpointDecider(
  options: ModelCheckpointOptions,
): Decider<CheckpointState, SavePoint> {
  return checkpointDeciderOf(checkCheckpointOptions(options).config);
}

interface Settings {
  readonly config: CheckpointConfig;
  readonly monitor: MonitorSettings;
  readonly filepath: string;
  readonly fileSystem: FileSystemPort | undefined;
  readonly template: readonly TemplatePart[];
  readonly saveWeightsOnly: boolean;
  readonly includeOptimizer: boolean;
}

const KNOWN_OPTIONS = [
  'filepath',
  'monitor',
  'mode',
  'missingMonitor',
  'saveBestOnly',
  'saveWeightsOnly',
  'saveFreq',
  'initialValueThreshold',
  'includeOptimizer',
  'fileSystem',
] as const;

function checkCheckpointOptions(options: ModelCheckpointOptions): Settings {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${NAME}: options must be an object with a filepath, got ${String(options)}`,
    );
  }
  checkOptions(NAME, options, KNOWN_OPTIONS);
  const {
    filepath,
    monitor = 'val_loss',
    mode = 'auto',
    saveBestOnly = false,
    saveWeightsOnly = false,
    saveFreq = 'epoch',
    initialValueThreshold,
    includeOptimizer = true,
    missingMonitor = 'error',
  } = options;
  if (typeof filepath !== 'string' || filepath === '') {
    throw new TypeError(
      `${NAME}: filepath must be a non-empty string, got ${JSON.stringify(filepath)}`,
    );
  }
  let template: TemplatePart[];
  try {
    template = parseTemplate(filepath);
  } catch (error) {
    throw new SyntaxError(`${NAME}: filepath ${(error as Error).message}`, { cause: error });
  }
  const monitorSetting = monitorSettings(NAME, monitor, mode, missingMonitor);
  checkBoolean(NAME, 'saveBestOnly', saveBestOnly);
  checkBoolean(NAME, 'saveWeightsOnly', saveWeightsOnly);
  checkBoolean(NAME, 'includeOptimizer', includeOptimizer);
  if (
    saveFreq !== 'epoch' &&
    !(typeof saveFreq === 'number' && Number.isInteger(saveFreq) && saveFreq >= 1)
  ) {
    throw new RangeError(
      `${NAME}: saveFreq must be 'epoch' or an integer >= 1 (batches), got ${JSON.stringify(saveFreq)}`,
    );
  }
  if (initialValueThreshold !== undefined)
    checkNumber(NAME, 'initialValueThreshold', initialValueThreshold);
  return {
    // Without a direction the run fails at trainBegin (monitorCheck) before 'min' is used.
    config: { monitor, direction: monitorSetting.direction ?? 'min', saveBestOnly, saveFreq, initialValueThreshold },
    monitor: monitorSetting,
    filepath,
    fileSystem: options.fileSystem,
    template,
    saveWeightsOnly,
    includeOptimizer,
  };
}

/**
 * A filepath template that names a key the run will not log (`{val_accuracy}` where tfjs logs
 * `val_acc`) would fail at the first save, after an epoch of compute: fail at `trainBegin`.
 */
function checkTemplateKeys(settings: Settings, metrics: readonly string[], control: RunControl | undefined): void {
  if (metrics.length === 0) return;
  const keys = [...metrics, 'lr', 'epoch', ...(settings.config.saveFreq === 'epoch' ? [] : ['batch'])];
  for (const part of settings.template) {
    if (typeof part === 'string') continue;
    const message = unknownLogKey(`${NAME}: filepath "${settings.filepath}" field`, part.key, keys);
    if (message === undefined) continue;
    failRun(control, new RangeError(message));
    return;
  }
}

/**
 * A fixed `filepath` is checked as a checkpoint target (its folder created; a link, a file or a
 * folder of other files refused); a template's fixed leading folder is created.
 */
async function checkWhereItWrites(settings: Settings): Promise<void> {
  const fs = settings.fileSystem ?? nodeFileSystem;
  const fixed = settings.template.every((part) => typeof part === 'string');
  if (fixed) return checkCheckpointTarget(fs, resolve(settings.filepath), NAME);
  const first = settings.template[0];
  const prefix = typeof first === 'string' ? first : '';
  await ensureFolder(fs, dirname(resolve(`${prefix}x`)), NAME, settings.filepath);
}

/** Keras' `_get_file_path`: `epoch` and `batch` 1-based; a log named `batch` wins over the batch index. */
function formatPath(template: readonly TemplatePart[], filepath: string, point: SavePoint): string {
  const values: Record<string, number> = { ...point.logs, epoch: point.epoch + 1 };
  if (point.batch !== undefined && !Object.hasOwn(point.logs, 'batch'))
    values['batch'] = point.batch + 1;
  try {
    return pythonFormat(template, values, { ints: INTS });
  } catch (error) {
    const where =
      point.batch === undefined
        ? `epoch ${point.epoch}`
        : `epoch ${point.epoch}, batch ${point.batch}`;
    throw new Error(
      `${NAME}: failed to format filepath "${filepath}" at ${where}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
