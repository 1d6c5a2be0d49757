import { reduce, type OperatorFunction } from 'rxjs';
import type { Logs, TrainingEvent, TrainParams } from './events.js';

/** Keras' `History`: the epochs run and each log key's values, one per epoch. */
export interface History {
  readonly epoch: readonly number[];
  readonly history: Readonly<Record<string, readonly number[]>>;
  readonly params: TrainParams | undefined;
}

/**
 * Folds a run into Keras' `History` object, emitted when the run completes.
 *
 * ## Example
 * ```ts
 * import { fit, toHistory } from '@rxfit/core';
 * const { history } = await lastValueFrom(fit(model, data, { epochs: 3 }).pipe(toHistory()));
 * console.log(history.loss);
 * ```
 * @returns An operator that emits one {@link History}.
 */
export function toHistory(): OperatorFunction<TrainingEvent, History> {
  return reduce<TrainingEvent, History>(
    (acc, event) => {
      if (event.type === 'trainBegin') return { ...acc, params: event.params };
      if (event.type !== 'epochEnd') return acc;
      return { ...acc, epoch: [...acc.epoch, event.epoch], history: appendLogs(acc.history, event.logs) };
    },
    { epoch: [], history: {}, params: undefined },
  );
}

function appendLogs(
  history: Readonly<Record<string, readonly number[]>>,
  logs: Logs,
): Readonly<Record<string, readonly number[]>> {
  // Spread copies own keys as data properties, and defineProperty writes one: a log key named
  // `__proto__` or `constructor` stays a plain key instead of reaching the prototype.
  const next: Record<string, readonly number[]> = { ...history };
  for (const [key, value] of Object.entries(logs)) {
    const values = [...(Object.hasOwn(history, key) ? history[key]! : []), value];
    Object.defineProperty(next, key, { value: values, enumerable: true, writable: true, configurable: true });
  }
  return next;
}
