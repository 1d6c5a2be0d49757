import {
  DATA_SOURCE_EVENT,
  warningOf,
  type DataSourceData,
  type Logs,
  type TrainingEvent,
} from '@rxfit/core';

/**
 * Python's `'%.{digits}f' % x`: the exact binary value rounded half to even (JavaScript's
 * `toFixed` rounds exact ties away from zero, so `2.5` would print `3` where Keras prints `2`).
 *
 * ## Example
 * ```ts
 * pyFixed(2.5, 0); // '2' (internal helper of @rxfit/logger)
 * ```
 * @param x - The value.
 * @param digits - Decimals to keep.
 * @returns The text Python prints; `nan`, `inf`, `-inf` for non-finite values.
 * @internal
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const abs = Math.abs(x);
  // toFixed(100) is the exact expansion for every double whose expansion is that short, which
  // includes every exact tie at `digits` (a tie has exactly digits + 1 decimals).
  const exact = abs.toFixed(100);
  const point = exact.indexOf('.');
  const tail = exact.slice(point + 1 + digits);
  let rounded = abs.toFixed(digits);
  if (/^50*$/.test(tail)) {
    const truncated = exact.slice(0, digits === 0 ? point : point + 1 + digits);
    const lastDigit = Number(truncated[truncated.length - 1]);
    if (lastDigit % 2 === 0) rounded = truncated;
  }
  return sign + rounded;
}

/**
 * Python's `'%.{digits}e' % x`: at least two exponent digits (`1.0000e-03`).
 *
 * ## Example
 * ```ts
 * pyExponential(0.001, 4); // '1.0000e-03'
 * ```
 * @param x - The value.
 * @param digits - Mantissa decimals.
 * @returns The text Python prints.
 * @internal
 */
export function pyExponential(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const [mantissa = '', exponent = '0'] = x.toExponential(digits).split('e');
  const power = Number(exponent);
  return `${mantissa}e${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
}

/**
 * A metric value as Keras' progress bar prints it: `%.4f` when `abs(v) > 1e-3`, else `%.4e`.
 * The value is first rounded to float32, as Keras and tfjs hold metrics (and the learning rate),
 * so that `lr: 0.001` prints `0.0010` as in Keras instead of `1.0000e-03`.
 *
 * ## Example
 * ```ts
 * formatValue(0.0005); // '5.0000e-04'
 * ```
 * @param value - A metric value.
 * @returns The text Keras prints for it.
 * @internal
 */
export function formatValue(value: number): string {
  const v = Math.fround(value);
  return Math.abs(v) > 1e-3 ? pyFixed(v, 4) : pyExponential(v, 4);
}

/**
 * Keras' ` - loss: 0.6877 - acc: 0.5511` suffix, in the logs' key order (`size` left out).
 *
 * ## Example
 * ```ts
 * formatLogs({ loss: 0.6877, size: 32 }); // ' - loss: 0.6877'
 * ```
 * @param logs - Batch or epoch logs.
 * @returns The suffix, `''` for no keys.
 * @internal
 */
export function formatLogs(logs: Logs): string {
  let text = '';
  for (const [key, value] of Object.entries(logs)) {
    if (key === 'size' || key === 'batch') continue;
    text += ` - ${key}: ${formatValue(value)}`;
  }
  return text;
}

/**
 * Keras' `_format_time`: ` 131ms/step`, ` 2s/step`, ` 850us/step` (`seconds` per unit).
 *
 * ## Example
 * ```ts
 * formatTimePerUnit(0.131); // ' 131ms/step'
 * ```
 * @param seconds - Seconds per unit.
 * @param unit - The unit's name.
 * @returns The text, with a leading space.
 * @internal
 */
export function formatTimePerUnit(seconds: number, unit = 'step'): string {
  if (seconds >= 1 || seconds === 0) return ` ${pyFixed(seconds, 0)}s/${unit}`;
  if (seconds >= 1e-3) return ` ${pyFixed(seconds * 1e3, 0)}ms/${unit}`;
  return ` ${pyFixed(seconds * 1e6, 0)}us/${unit}`;
}

/**
 * Keras' ETA: `1:02:03`, `2:03` or `42s` (Python's `%d` truncates).
 *
 * ## Example
 * ```ts
 * formatEta(125); // '2:05'
 * ```
 * @param seconds - Seconds left.
 * @returns The text.
 * @internal
 */
export function formatEta(seconds: number): string {
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (seconds > 3600)
    return `${Math.floor(seconds / 3600)}:${pad((seconds % 3600) / 60)}:${pad(seconds % 60)}`;
  if (seconds > 60) return `${Math.floor(seconds / 60)}:${pad(seconds % 60)}`;
  return `${Math.trunc(seconds)}s`;
}

/**
 * Keras' bar `250/250 [==============================]`: `>` marks the head while the epoch runs,
 * dots the rest. An unknown target prints `%7d/Unknown`.
 *
 * ## Example
 * ```ts
 * formatBar(125, 250, 30); // '125/250 [==============>...............]'
 * ```
 * @param current - Steps done.
 * @param target - Steps in the epoch, if known.
 * @param width - Characters between the brackets.
 * @returns The bar.
 * @internal
 */
export function formatBar(current: number, target: number | undefined, width: number): string {
  if (target === undefined || target <= 0) return `${String(current).padStart(7)}/Unknown`;
  const digits = Math.floor(Math.log10(target)) + 1;
  let bar = `${String(current).padStart(digits)}/${target} [`;
  // Clamped: a target learned from a shorter first epoch must not overflow the brackets.
  const progWidth = Math.min(width, Math.floor((width * current) / target));
  if (progWidth > 0) bar += '='.repeat(progWidth - 1) + (current < target ? '>' : '=');
  return `${bar}${'.'.repeat(width - progWidth)}]`;
}

/**
 * The float a Keras verbose message prints: up to 7 significant digits (float32 precision,
 * which is what the optimizer keeps), trailing zeros dropped: `0.0009048374`, `0.01`.
 *
 * ## Example
 * ```ts
 * formatRate(0.0009048374180359595); // '0.0009048374'
 * ```
 * @param value - A learning rate.
 * @returns The text.
 * @internal
 */
function formatRate(value: number): string {
  return String(Number(value.toPrecision(7)));
}

/** Checkpoint values, as Keras' ModelCheckpoint prints them (`%.5f`). */
function formatMonitorValue(value: number): string {
  return pyFixed(value, 5);
}

/**
 * The line Keras' verbose callbacks print for a decision event, or `undefined` for events that
 * are not decisions. `previousSave` is the value of the previous checkpoint with the same monitor.
 *
 * ## Example
 * ```ts
 * decisionMessage(stopEvent); // 'Epoch 5: early stopping (earlyStopping)'
 * ```
 * @param event - Any event.
 * @param previousSave - The value of the previous checkpoint saved with the same monitor.
 * @returns The message, or `undefined`.
 * @internal
 */
export function decisionMessage(event: TrainingEvent, previousSave?: number): string | undefined {
  switch (event.type) {
    case 'stopRequested': {
      const where =
        event.batch === undefined
          ? `Epoch ${event.epoch + 1}`
          : `Epoch ${event.epoch + 1}, batch ${event.batch + 1}`;
      return `${where}: ${event.reason} (${event.by})`;
    }
    case 'learningRateChanged':
      return `Epoch ${event.epoch + 1}: ${event.by} setting learning rate to ${formatRate(event.to)}.`;
    case 'checkpointSaved': {
      const prefix = `Epoch ${event.epoch + 1}: `;
      if (event.monitor !== undefined && event.value !== undefined) {
        const from =
          previousSave === undefined ? '' : ` improved from ${formatMonitorValue(previousSave)} to`;
        const value = formatMonitorValue(event.value);
        return previousSave === undefined
          ? `${prefix}${event.monitor} is ${value}, saving model to ${event.path}`
          : `${prefix}${event.monitor}${from} ${value}, saving model to ${event.path}`;
      }
      return `${prefix}saving model to ${event.path}`;
    }
    case 'custom': {
      const warning = warningOf(event);
      if (warning) return `Warning (${warning.by}): ${warning.message}`;
      if (event.name === DATA_SOURCE_EVENT) return dataSourceDescription(event.data);
      // Any other fact that carries a `message` for people (a resume, say) is printed as is.
      const message = (event.data as { message?: unknown } | null | undefined)?.message;
      return typeof message === 'string' ? message : undefined;
    }
    case 'trainEnd':
      return event.reason === 'failed'
        ? `Epoch ${event.epoch + 1}: training failed${event.error === undefined ? '' : `: ${event.error}`}`
        : undefined;
    default:
      return undefined;
  }
}

function dataSourceDescription(data: unknown): string | undefined {
  const description = (data as Partial<DataSourceData> | null | undefined)?.description;
  return typeof description === 'string' ? description : undefined;
}
