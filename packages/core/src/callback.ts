import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, failRun, type RunControl } from './control.js';
import type { Logs, TrainingEvent, TrainParams } from './events.js';

/** What a hook may return: nothing, or a promise the loop waits for before the next step. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- hooks written as `() => { ... }` return void
export type HookResult = void | Promise<unknown>;

/**
 * Keras-style hooks. Each receives the run's {@link RunControl} last, so a hook can stop the
 * run or change the learning rate. Hooks run for live events only.
 */
export interface CallbackHooks {
  readonly onTrainBegin?: (params: TrainParams, run: RunControl) => HookResult;
  readonly onEpochBegin?: (epoch: number, run: RunControl) => HookResult;
  readonly onBatchBegin?: (batch: number, epoch: number, run: RunControl) => HookResult;
  readonly onBatchEnd?: (batch: number, logs: Logs, run: RunControl) => HookResult;
  readonly onEpochEnd?: (epoch: number, logs: Logs, run: RunControl) => HookResult;
  readonly onTrainEnd?: (logs: Logs | undefined, run: RunControl) => HookResult;
  /** Any event, after the specific hook. */
  readonly onEvent?: (event: TrainingEvent, run: RunControl) => HookResult;
}

/**
 * Turns Keras-style hooks (sync or async) into an operator, as Keras' `LambdaCallback`.
 * A hook's promise is handed to the loop (`defer`): the next step waits for it and its
 * rejection fails the run. Events pass through unchanged.
 *
 * ## Example
 * ```ts
 * import { callback } from '@rxfit/core';
 * const stopWhenGood = callback({
 *   onEpochEnd: (epoch, logs, run) => {
 *     if (logs.val_acc > 0.95 || logs.loss < 0.1) run.stop('val_acc > 0.95 or loss < 0.1', { by: 'stopWhenGood' });
 *   },
 * });
 * ```
 * @param hooks - The hooks to call.
 * @returns An operator that calls them for each live event.
 */
export function callback(hooks: CallbackHooks): MonoTypeOperatorFunction<TrainingEvent> {
  for (const [name, hook] of Object.entries(hooks)) {
    if (typeof hook !== 'function')
      throw new TypeError(`callback: ${name} must be a function, got ${typeof hook}`);
  }
  return tap((event) => {
    const run = controlOf(event, 'callback');
    if (!run) return;
    const results: HookResult[] = [];
    try {
      callHooks(hooks, event, run, results);
    } catch (error) {
      // As every rxfit operator fails a run: through the loop, so trainEnd 'failed' is still emitted.
      failRun(run, error);
    }
    for (const result of results) if (result instanceof Promise) run.defer(result);
  });
}

function callHooks(
  hooks: CallbackHooks,
  event: TrainingEvent,
  run: RunControl,
  results: HookResult[],
): void {
  switch (event.type) {
    case 'trainBegin':
      results.push(hooks.onTrainBegin?.(event.params, run));
      break;
    case 'epochBegin':
      results.push(hooks.onEpochBegin?.(event.epoch, run));
      break;
    case 'batchBegin':
      results.push(hooks.onBatchBegin?.(event.batch, event.epoch, run));
      break;
    case 'batchEnd':
      results.push(hooks.onBatchEnd?.(event.batch, event.logs, run));
      break;
    case 'epochEnd':
      results.push(hooks.onEpochEnd?.(event.epoch, event.logs, run));
      break;
    case 'trainEnd':
      results.push(hooks.onTrainEnd?.(event.logs, run));
      break;
    default:
      break;
  }
  results.push(hooks.onEvent?.(event, run));
}
