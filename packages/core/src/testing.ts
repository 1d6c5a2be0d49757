import type { LayersModel } from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import type { Logs, TrainingEvent } from './events.js';
import { RunEngine } from './run-engine.js';
import { checkInteger, checkNumber, checkOptions } from './validate.js';

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
    let trainEnded = false;
    const engine = new RunEngine(subscriber, {
      runId,
      ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
      model: options.model,
      learningRate: { get: () => lr, set: (next) => (lr = next) },
      ...(options.printWarnings === undefined ? {} : { printWarnings: options.printWarnings }),
    });
    const run = async () => {
      const keys = Object.keys(epochs[0] ?? {});
      engine.epoch = initialEpoch;
      engine.emit({
        type: 'trainBegin',
        params: { epochs: epochs.length, initialEpoch, stepsPerEpoch: batchesPerEpoch, metrics: keys },
      });
      await engine.settle();
      let lastLogs: Logs | undefined;
      let epoch = initialEpoch;
      for (; epoch < epochs.length && !engine.stopping && !cancelled; epoch++) {
        engine.epoch = epoch;
        engine.batch = undefined;
        engine.emit({ type: 'epochBegin', epoch });
        await engine.settle();
        for (let batch = 0; batch < batchesPerEpoch && !engine.stopping && !cancelled; batch++) {
          engine.batch = batch;
          engine.emit({ type: 'batchBegin', epoch, batch });
          await engine.settle();
          engine.emit({ type: 'batchEnd', epoch, batch, logs: Object.freeze({ ...batchLogs(epoch, batch) }) });
          await engine.settle();
          await engine.yieldToEventLoop();
        }
        engine.batch = undefined;
        if (cancelled) return;
        lastLogs = Object.freeze({ ...epochs[epoch], lr });
        engine.emit({ type: 'epochEnd', epoch, logs: lastLogs });
        await engine.settle();
      }
      if (cancelled) return;
      const end = {
        epoch: Math.max(initialEpoch, epoch - 1),
        reason: engine.stopping ? ('stopped' as const) : ('completed' as const),
        ...(lastLogs ? { logs: lastLogs } : {}),
      };
      engine.emit({ type: 'trainEnding', ...end });
      await engine.settle();
      if (cancelled) return;
      trainEnded = true;
      engine.emit({ type: 'trainEnd', ...end });
      await engine.settle();
    };
    run().then(
      () => {
        engine.close();
        subscriber.complete();
      },
      async (error: unknown) => {
        // As fit: a failed run ends with trainEnd 'failed' before the error.
        if (!cancelled && !trainEnded) {
          await engine.settleBounded();
          engine.emit({
            type: 'trainEnd',
            epoch: engine.epoch,
            reason: 'failed',
            error: error instanceof Error ? error.message : String(error),
          });
        }
        engine.close();
        subscriber.error(error);
      },
    );
    return () => {
      cancelled = true;
    };
  });
}
