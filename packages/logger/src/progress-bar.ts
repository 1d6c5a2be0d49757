import { decisionFold, reportWarning, warningOf, type TrainingEvent } from '@rxfit/core';
import { checkBoolean, checkInteger, checkNumber, checkOptions } from '@rxfit/core/operator-kit';
import { defer, finalize, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { closeLine, progressDeciderOf } from './progress-decider.js';

/** Options of {@link progressBar}. */
export interface ProgressBarOptions {
  /** Where the text goes. @default `(text) => process.stdout.write(text)` */
  readonly write?: (text: string) => void;
  /**
   * Draw a live bar updated in place with `\r`; otherwise print one line per epoch (CI, pipes).
   * @default `process.stdout.isTTY` when `write` is the default, `false` when a `write` is given
   */
  readonly isTTY?: boolean;
  /** Clock of the throttle, in ms. @default `Date.now` */
  readonly now?: () => number;
  /** Minimum ms between two live bar updates, so drawing never slows training. @default 100 */
  readonly interval?: number;
  /** Characters between the bar's brackets. @default 30 (Keras) */
  readonly width?: number;
  /** Render replayed events too (a past run read back from a log), as on a pipe. @default false */
  readonly replay?: boolean;
}

/**
 * Prints Keras' progress bar (`ProgbarLogger`) and the verbose messages of the callbacks' decisions.
 *
 * On a TTY the bar is redrawn in place at most every `interval` ms; elsewhere each epoch prints
 * exactly one line after its `Epoch 3/50` header. Durations come from the events' `time`, so a
 * replayed run renders as it ran. Events pass through unchanged.
 *
 * ## Example
 * ```ts
 * import { progressBar } from '@rxfit/logger';
 * await lastValueFrom(fit(model, data, { epochs: 50 }).pipe(earlyStopping(), progressBar()));
 * // Epoch 1/50
 * // 250/250 [==============================] - 33s 131ms/step - loss: 0.6877 - acc: 0.5511 - lr: 0.0010
 * ```
 * @param options - See {@link ProgressBarOptions}.
 * @returns An operator that prints the run and passes every event through.
 * @throws TypeError when `write` or `now` is not a function, or `isTTY` or `replay` not a boolean; RangeError when `interval` or `width` is out of range.
 */
export function progressBar(
  options: ProgressBarOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  checkOptions('progressBar', options, ['write', 'isTTY', 'now', 'interval', 'width', 'replay']);
  const { interval = 100, width = 30, replay = false } = options;
  if (options.write !== undefined && typeof options.write !== 'function') {
    throw new TypeError(`progressBar: write must be a function, got ${typeof options.write}`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`progressBar: now must be a function, got ${typeof options.now}`);
  }
  for (const name of ['isTTY', 'replay'] as const) {
    if (options[name] !== undefined) checkBoolean('progressBar', name, options[name]);
  }
  checkNumber('progressBar', 'interval', interval, { min: 0 });
  checkInteger('progressBar', 'width', width, 1);
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const isTTY = options.isTTY ?? (options.write === undefined && process.stdout.isTTY);
  const now = options.now ?? Date.now;

  return (source) =>
    defer(() => {
      const fold = decisionFold(progressDeciderOf({ interval, width, isTTY, replay, now }));
      return source.pipe(
        tap((event) => {
          for (const text of fold.next(event)) write(text);
          if (event.replayed !== true && warningOf(event)) reportWarning(event);
        }),
        // A run cancelled mid-epoch leaves the live line open: end it so the prompt starts clean.
        finalize(() => {
          const text = closeLine(fold.state);
          if (text !== '') write(text);
        }),
      );
    });
}
