import type { LayersModel } from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import type { Logs, TrainingEvent } from './events.js';
import { RunEngine } from './run-engine.js';
import { runLoop, type BatchStep, type StepPort } from './run-loop.js';
import { checkInteger, checkNumber, checkOptions } from './validate.js';

/** The `backend` a scripted run announces in `trainBegin`: nothing is computed. */
export const SCRIPTED_BACKEND = 'scripted';

/** Options of {@link scriptedRun}. */
export interface ScriptedRunOptions {
  /** Batches in each epoch. @default 1 */
  readonly batchesPerEpoch?: number;
  /** The logs of each `batchEnd`. @default the epoch's logs without `val_*` keys, plus `size: 1` */
  readonly batchLogs?: (epoch: number, batch: number) => Logs;
  /** The learning rate at the start. @default 0.001 */
  readonly learningRate?: number;
  /** The first epoch to run (entries before it in the script are skipped). @default 0 */
  readonly initialEpoch?: number;
  /** The run's id. @default 'scripted-run' */
  readonly runId?: string;
  /** The `seq` of the first event. @default 0 */
  readonly firstSeq?: number;
  /** A model to expose as `control.model` (it is not trained). */
  readonly model?: LayersModel;
  /** As `fit`'s: print warnings no logger reported. @default true */
  readonly printWarnings?: boolean;
}

/**
 * A live run driven by a script instead of a model, to test callbacks the way Keras tests
 * them: a given sequence of epoch logs, and the run reacts to `stop`, `setLearningRate`,
 * `emit` and `defer` exactly as `fit` does. Each `epochEnd` gets the rate in force as `lr`.
 *
 * ## Example
 * ```ts
 * import { scriptedRun } from '@rxfit/core/testing';
 * const events = await lastValueFrom(
 *   scriptedRun([{ loss: 10 }, { loss: 9 }, { loss: 9.5 }]).pipe(earlyStopping({ monitor: 'loss' }), toArray()),
 * );
 * ```
 * @param epochs - The `epochEnd` logs of each epoch, in order.
 * @param options - See {@link ScriptedRunOptions}.
 * @returns A cold Observable of the run's events.
 */
export function scriptedRun(epochs: readonly Logs[], options: ScriptedRunOptions = {}): Observable<TrainingEvent> {
  checkOptions('scriptedRun', options, [
    'batchesPerEpoch',
    'batchLogs',
    'learningRate',
    'initialEpoch',
    'runId',
    'firstSeq',
    'model',
    'printWarnings',
  ]);
  const { batchesPerEpoch = 1, learningRate = 0.001, initialEpoch = 0, runId = 'scripted-run' } = options;
  checkInteger('scriptedRun', 'batchesPerEpoch', batchesPerEpoch, 1);
  checkInteger('scriptedRun', 'initialEpoch', initialEpoch, 0);
  checkNumber('scriptedRun', 'learningRate', learningRate, { min: 0 });
  if (epochs.length === 0) throw new RangeError('scriptedRun: the script needs at least one epoch of logs');
  const batchLogs =
    options.batchLogs ??
    ((epoch: number): Logs => ({
      ...Object.fromEntries(Object.entries(epochs[epoch] ?? {}).filter(([key]) => !key.startsWith('val_'))),
      size: 1,
    }));

  return new Observable<TrainingEvent>((subscriber) => {
    let lr = learningRate;
    let cancelled = false;
    const engine = new RunEngine(subscriber, {
      runId,
      ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
      model: options.model,
      learningRate: { get: () => lr, set: (next) => (lr = next) },
      ...(options.printWarnings === undefined ? {} : { printWarnings: options.printWarnings }),
    });
    const port: StepPort = {
      begin: () => ({
        epochs: epochs.length,
        initialEpoch,
        stepsPerEpoch: batchesPerEpoch,
        // One sample a batch: what fit announces, for a script.
        samples: batchesPerEpoch,
        batchSize: 1,
        metrics: Object.keys(epochs[0] ?? {}),
        backend: SCRIPTED_BACKEND,
      }),
      steps(epoch) {
        let batch = 0;
        return {
          next: () =>
            Promise.resolve(
              batch < batchesPerEpoch
                ? { done: false as const, value: stepOf(epoch, batch++) }
                : { done: true as const, value: undefined },
            ),
        };
      },
      endEpoch: (epoch) => Promise.resolve({ ...epochs[epoch] }),
      dispose() {},
    };
    const stepOf =
      (epoch: number, batch: number): BatchStep =>
      () =>
        Promise.resolve({ ...batchLogs(epoch, batch) });
    runLoop(engine, port, { epochs: epochs.length, initialEpoch, cancelled: () => cancelled }).then(
      () => {
        engine.close();
        subscriber.complete();
      },
      (error: unknown) => {
        engine.close();
        subscriber.error(error);
      },
    );
    return () => {
      cancelled = true;
    };
  });
}
