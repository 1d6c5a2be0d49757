import { failRun, type RunControl } from './control.js';
import type { TrainingEvent } from './events.js';
import { checkOneOf, closestName } from './validate.js';

/** Whether a monitored value improves by going down (`min`) or up (`max`). */
export type MonitorDirection = 'min' | 'max';

const MIN_NAMES = new Set([
  'mse',
  'mae',
  'mape',
  'msle',
  'rmse',
  'kld',
  'kldivergence',
  'kullbackleiblerdivergence',
  'poisson',
  'logcosh',
  // tfjs' cosine metric is cosineProximity, the negated similarity: lower is better.
  'cosine',
  'cosineproximity',
]);
const MIN_PARTS = ['loss', 'error', 'crossentropy', 'hinge', 'huber'];
const MAX_NAMES = new Set(['cosinesimilarity', 'r2', 'r2score']);
const MAX_PARTS = [
  'acc',
  'auc',
  'precision',
  'recall',
  'f1',
  'fbeta',
  'iou',
  'topk',
  'specificity',
  'sensitivity',
];

/**
 * What Keras' `mode: 'auto'` makes of a monitored log key, shared by every monitor operator
 * (early stopping, checkpoint, ReduceLROnPlateau) so that they agree. Keras 3 strips `val_`,
 * treats `loss` as `min` and asks the compiled metric for its direction; tfjs metrics have no
 * direction, so the names tfjs and Keras use are read instead.
 *
 * ## Example
 * ```ts
 * import { monitorDirection } from '@rxfit/core/operator-kit';
 * monitorDirection('val_accuracy'); // 'max'
 * monitorDirection('lr'); // undefined
 * ```
 * @param monitor - A log key (`loss`, `val_acc`, `mse`, ...).
 * @returns `min` for loss- and error-like names, `max` for accuracy-, AUC-, precision-, recall-,
 * F1-like names, `undefined` when the name says nothing.
 */
export function monitorDirection(monitor: string): MonitorDirection | undefined {
  const name = monitor
    .replace(/^val_/, '')
    .toLowerCase()
    .replace(/[_\-\s]/g, '');
  if (MIN_NAMES.has(name) || MIN_PARTS.some((part) => name.includes(part))) return 'min';
  if (MAX_NAMES.has(name) || MAX_PARTS.some((part) => name.includes(part))) return 'max';
  return undefined;
}

/**
 * Keras' `_is_improvement`: whether `value` beats `reference` by more than `minDelta`, strictly.
 * The one improvement test of every monitor operator (early stopping, checkpoint, ReduceLROnPlateau).
 *
 * ## Example
 * ```ts
 * import { isImprovement } from '@rxfit/core/operator-kit';
 * isImprovement('max', 0.5, 0.75, 0); // true: 0.75 - 0.5 > 0
 * ```
 * @param direction - `min` or `max`.
 * @param minDelta - The margin, ≥ 0.
 * @param value - The new value.
 * @param reference - The value to beat; `undefined` (nothing seen yet) is always beaten.
 * @returns Whether `value` is an improvement.
 */
export function isImprovement(
  direction: MonitorDirection,
  minDelta: number,
  value: number,
  reference: number | undefined,
): boolean {
  if (reference === undefined) return true;
  return direction === 'min' ? value + minDelta < reference : value - minDelta > reference;
}

/** What a monitor operator does when its monitor is not in the run's logs. */
export type MissingMonitor = 'error' | 'warn';

/** Keras' log names that tfjs spells otherwise (`metrics: ['accuracy']` logs `acc`). */
const KERAS_NAMES: Readonly<Record<string, string>> = { accuracy: 'acc', learning_rate: 'lr' };

/**
 * A monitor operator's settings, checked when the factory is called: the direction, when the
 * name tells it (or `mode` does), and whether a missing monitor fails the run.
 */
export interface MonitorSettings {
  readonly owner: string;
  readonly monitor: string;
  /** `undefined`: `mode: 'auto'` cannot read the name; decided once the run's keys are known. */
  readonly direction: MonitorDirection | undefined;
  readonly missing: MissingMonitor;
}

/**
 * Validates a monitor operator's `monitor`, `mode` and `missingMonitor` options at factory time.
 * A name whose direction `'auto'` cannot read is not an error yet: it may be a typo, which the
 * run's keys will show (see {@link monitorCheck}).
 *
 * ## Example
 * ```ts
 * import { monitorSettings } from '@rxfit/core/operator-kit';
 * monitorSettings('earlyStopping', 'val_loss', 'auto', 'error').direction; // 'min'
 * ```
 * @throws TypeError for a monitor that is not a non-empty string; RangeError for a bad mode or
 * missingMonitor.
 */
export function monitorSettings(
  owner: string,
  monitor: unknown,
  mode: unknown,
  missing: unknown,
): MonitorSettings {
  if (typeof monitor !== 'string' || monitor === '') {
    throw new TypeError(`${owner}: monitor must be a non-empty string, got ${JSON.stringify(monitor)}`);
  }
  checkOneOf(owner, 'mode', mode, ['auto', 'min', 'max'] as const);
  checkOneOf(owner, 'missingMonitor', missing, ['error', 'warn'] as const);
  return { owner, monitor, direction: mode === 'auto' ? monitorDirection(monitor) : mode, missing };
}

/**
 * Why a log key the user named (a monitor, a filepath field) is not one the run logs, or
 * `undefined` when it is. The message lists the keys, gives the tfjs spelling where the name is
 * Keras' (`val_accuracy` → `val_acc`), and otherwise the closest key: never a fix that would
 * hide a typo.
 *
 * ## Example
 * ```ts
 * import { unknownLogKey } from '@rxfit/core/operator-kit';
 * unknownLogKey('earlyStopping: monitor', 'val_los', ['loss', 'val_loss']);
 * // "earlyStopping: monitor 'val_los' is not logged by this run. Did you mean 'val_loss'? ..."
 * ```
 * @param what - Who names the key, and as what (`'earlyStopping: monitor'`).
 * @param name - The key as the user wrote it.
 * @param keys - The keys the run logs.
 */
export function unknownLogKey(what: string, name: string, keys: readonly string[]): string | undefined {
  if (keys.includes(name)) return undefined;
  const [, prefix = '', bare = name] = /^(val_)?(.*)$/.exec(name) ?? [];
  const tfjsName = KERAS_NAMES[bare] === undefined ? undefined : `${prefix}${KERAS_NAMES[bare]}`;
  const hint =
    tfjsName !== undefined && keys.includes(tfjsName)
      ? ` '${name}' is Keras' name; tfjs logs it as '${tfjsName}': write '${tfjsName}'.`
      : closestHint(name, keys);
  return `${what} '${name}' is not logged by this run.${hint} The run logs: ${keys.join(', ')}.`;
}

function closestHint(monitor: string, keys: readonly string[]): string {
  const best = closestName(monitor, keys);
  return best === undefined ? '' : ` Did you mean '${best}'?`;
}

/**
 * The check every monitor operator makes for each run: at `trainBegin` against the metric names
 * the run announces (plus `lr`), or, when it announces none, at the first `epochEnd` against its
 * logs. A monitor the run does not log fails a live run through its control (the loop emits
 * `trainEnd {reason:'failed'}` and errors before any batch), and a replay by throwing; with
 * `missingMonitor: 'warn'` the operator's own Keras warning is left to speak. A monitor that is
 * logged but whose direction `mode: 'auto'` cannot read fails the same way, asking for a mode.
 *
 * ## Example
 * ```ts
 * import { monitorCheck, monitorSettings } from '@rxfit/core/operator-kit';
 * const check = monitorCheck(monitorSettings('earlyStopping', 'val_loss', 'auto', 'error'));
 * tap((event) => check(event, controlOf(event)));
 * ```
 * @returns A checker with state for one subscription (call it once per subscription).
 */
export function monitorCheck(
  settings: MonitorSettings,
): (event: TrainingEvent, control: RunControl | undefined) => void {
  let pendingRun: string | undefined;
  return (event, control) => {
    let keys: readonly string[];
    if (event.type === 'trainBegin') {
      pendingRun = event.runId;
      if (event.params.metrics.length === 0) return;
      keys = [...event.params.metrics, 'lr'];
    } else if (event.type === 'epochEnd' && pendingRun === event.runId) {
      keys = Object.keys(event.logs);
    } else {
      return;
    }
    pendingRun = undefined;
    const { owner, monitor } = settings;
    const missing = unknownLogKey(`${owner}: monitor`, monitor, keys);
    let message: string | undefined;
    if (missing !== undefined) {
      if (settings.missing === 'warn') return;
      message = `${missing} (missingMonitor: 'warn' warns and goes on instead, as Keras does.)`;
    } else if (settings.direction === undefined) {
      message =
        `${owner}: mode 'auto' cannot tell whether monitor '${monitor}' should be minimized or maximized ` +
        `(it reads loss/error-like names such as loss, val_loss, mse, mae, and accuracy-like names such as ` +
        `acc, auc, precision, recall, f1); pass mode: 'min' or mode: 'max'`;
    }
    if (message === undefined) return;
    failRun(control, new RangeError(message));
  };
}
