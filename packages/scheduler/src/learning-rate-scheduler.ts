import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { failRun } from '@rxfit/core/operator-kit';
import type { Schedule } from './schedules.js';

const BY = 'learningRateScheduler';

/**
 * Keras' `LearningRateScheduler`: at the start of every epoch, sets the learning rate to
 * `schedule(epoch, lr)`, where `epoch` is the 0-based absolute epoch and `lr` the rate in force
 * (as float32, the precision the optimizer uses). The result is stored as float32 too, as Keras
 * does; an unchanged rate emits no `learningRateChanged`. Replayed events are ignored.
 *
 * ## Example
 * ```ts
 * import { learningRateScheduler } from '@rxfit/scheduler';
 * fit(model, data, { epochs: 20 }).pipe(
 *   learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1))),
 * );
 * ```
 * @param schedule - `(epoch, lr) => number`; see also the ready-made schedules of this package.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError when `schedule` is not a function. During the run, a schedule that throws
 *   or returns anything but a finite number ≥ 0 fails the run with an error naming the epoch
 *   and the value.
 */
export function learningRateScheduler(schedule: Schedule): MonoTypeOperatorFunction<TrainingEvent> {
  if (typeof schedule !== 'function') {
    throw new TypeError(
      `${BY}: schedule must be a function (epoch, lr) => number, got ${typeof schedule}`,
    );
  }
  return tap((event) => {
    if (event.type !== 'epochBegin') return;
    const control = controlOf(event, 'learningRateScheduler');
    if (!control) return;
    try {
      const current = Math.fround(control.learningRate);
      let next: unknown;
      try {
        next = schedule(event.epoch, current);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`${BY}: the schedule threw at epoch ${event.epoch}: ${message}`, {
          cause: error,
        });
      }
      // A rate beyond float32's range would become Infinity in the optimizer.
      if (typeof next !== 'number' || !Number.isFinite(Math.fround(next)) || next < 0) {
        throw new RangeError(
          `${BY}: the schedule returned ${describe(next)} at epoch ${event.epoch}; a learning rate must be a finite number >= 0`,
        );
      }
      const rounded = Math.fround(next);
      if (rounded !== current) control.setLearningRate(rounded, { by: BY });
    } catch (error) {
      // Handing the error to the loop (instead of throwing in the operator) fails the run the
      // way every other failure does: a `trainEnd` with reason 'failed' that sinks still see.
      failRun(control, error);
    }
  });
}

function describe(value: unknown): string {
  return typeof value === 'number'
    ? String(value)
    : `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
}

