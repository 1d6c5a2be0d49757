import { checkOneOf } from './validate.js';

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
 * import { monitorDirection } from '@rxfit/core';
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
 * Validates a monitor operator's `mode` and turns it into a direction; for `'auto'`, reads the
 * monitor's name with {@link monitorDirection}. One place, so every monitor operator accepts
 * the same modes and fails the same way.
 *
 * ## Example
 * ```ts
 * import { resolveMonitorDirection } from '@rxfit/core';
 * resolveMonitorDirection('earlyStopping', 'val_loss', 'auto'); // 'min'
 * ```
 * @param owner - The operator, named in errors.
 * @param monitor - The monitored log key.
 * @param mode - `'auto'`, `'min'` or `'max'`.
 * @returns The direction.
 * @throws RangeError for another mode, or when `'auto'` cannot read the monitor's name.
 */
export function resolveMonitorDirection(
  owner: string,
  monitor: string,
  mode: unknown,
): MonitorDirection {
  checkOneOf(owner, 'mode', mode, ['auto', 'min', 'max'] as const);
  const direction = mode === 'auto' ? monitorDirection(monitor) : mode;
  if (direction === undefined) {
    throw new RangeError(
      `${owner}: mode 'auto' cannot tell whether monitor '${monitor}' should be minimized or maximized ` +
        `(it knows loss/error-like names such as loss, val_loss, mse, mae, and accuracy-like names such as ` +
        `acc, accuracy, auc, precision, recall, f1); pass mode: 'min' or mode: 'max'`,
    );
  }
  return direction;
}
