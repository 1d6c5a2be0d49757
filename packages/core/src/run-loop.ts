import { TrainingError } from './errors.js';
import { DATA_SOURCE_EVENT, type DataSourceData, type Logs, type TrainParams } from './events.js';
import type { RunEngine } from './run-engine.js';

/** One training step of a batch: runs it and resolves to that batch's logs (`size` included). */
export type BatchStep = () => Promise<Logs>;

/**
 * What the loop trains: a model on data (`fit`), or a script of logs (`scriptedRun`). The loop
 * owns the order of events, the commands, cancellation and failure; the port owns the steps.
 */
export interface StepPort {
  /** Prepares the data and says what `trainBegin` announces. */
  begin(): TrainParams;
  /** Data sources that describe themselves (`Found 8005 images belonging to 2 classes.`). */
  readonly sources?: readonly DataSourceData[];
  /** The steps of one epoch, in order. */
  steps(epoch: number): AsyncIterator<BatchStep>;
  /** The epoch's logs (without `lr`), from its batch logs (and a validation pass). */
  endEpoch(epoch: number, batchLogs: readonly Logs[]): Promise<Logs>;
  /** Releases what the port holds; called once, however the run ends. */
  dispose(): void;
}

/** Options of {@link runLoop}. */
export interface RunLoopOptions {
  readonly epochs: number;
  readonly initialEpoch: number;
  /** Whether the run was cancelled (unsubscribed); may throw an abort reason. */
  readonly cancelled: () => boolean;
  /** Errors passed through as they are (an abort's reason), not wrapped in a TrainingError. */
  readonly passThrough?: (error: unknown) => boolean;
}

/**
 * The one training loop, Keras' `fit` order of callbacks as events, shared by `fit` and
 * `scriptedRun` so that they emit the same events and fail the same way:
 * `trainBegin`, (`epochBegin`, (`batchBegin`, `batchEnd`)*, `epochEnd`)*, `trainEnding`, `trainEnd`.
 * Deferred work settles after each event; a failure settles what is in flight (bounded), emits
 * `trainEnd {reason: 'failed'}` and throws a {@link TrainingError} naming the epoch and batch.
 */
export async function runLoop(engine: RunEngine, port: StepPort, options: RunLoopOptions): Promise<void> {
  const { cancelled } = options;
  let trainEnded = false;
  try {
    const params = port.begin();
    engine.epoch = options.initialEpoch;
    engine.emit({ type: 'trainBegin', params });
    for (const source of port.sources ?? []) engine.control.emit(DATA_SOURCE_EVENT, source);
    await engine.settle();
    if (cancelled()) return;

    let lastLogs: Logs | undefined;
    let epoch = options.initialEpoch;
    for (; epoch < options.epochs && !engine.stopping; epoch++) {
      engine.epoch = epoch;
      engine.batch = undefined;
      engine.emit({ type: 'epochBegin', epoch });
      await engine.settle();
      if (cancelled()) return;

      const batchLogs: Logs[] = [];
      const steps = port.steps(epoch);
      try {
        for (let batch = 0; !engine.stopping; batch++) {
          const next = await steps.next();
          if (next.done) break;
          engine.batch = batch;
          engine.emit({ type: 'batchBegin', epoch, batch });
          await engine.settle();
          const logs = Object.freeze(await next.value());
          batchLogs.push(logs);
          engine.emit({ type: 'batchEnd', epoch, batch, logs });
          await engine.settle();
          await engine.yieldToEventLoop();
          if (cancelled()) return;
        }
      } finally {
        await steps.return?.();
      }
      engine.batch = undefined;
      if (batchLogs.length === 0 && !engine.stopping) {
        throw new Error(
          'the training data yielded no batch in this epoch (an async generator can be iterated only once: give a BatchSource or stepsPerEpoch)',
        );
      }
      const logs = await port.endEpoch(epoch, batchLogs);
      if (cancelled()) return;
      lastLogs = Object.freeze({ ...logs, lr: engine.control.learningRate });
      engine.emit({ type: 'epochEnd', epoch, logs: lastLogs });
      await engine.settle();
      if (cancelled()) return;
    }
    const end = {
      epoch: Math.max(options.initialEpoch, epoch - 1),
      reason: engine.stopping ? ('stopped' as const) : ('completed' as const),
      ...(lastLogs ? { logs: lastLogs } : {}),
    };
    engine.emit({ type: 'trainEnding', ...end });
    await engine.settle();
    trainEnded = true;
    engine.emit({ type: 'trainEnd', ...end });
    await engine.settle();
  } catch (cause) {
    const error =
      cause instanceof TrainingError || options.passThrough?.(cause) === true
        ? cause
        : new TrainingError({ runId: engine.control.runId, epoch: engine.epoch, batch: engine.batch }, cause);
    // One trainEnd per run: work deferred at trainEnd itself fails the stream without another.
    if (!trainEnded && !cancelledQuietly(cancelled)) {
      // Side effects in flight (a checkpoint being written) end before the run says it failed.
      await engine.settleBounded();
      engine.emit({
        type: 'trainEnd',
        epoch: engine.epoch,
        reason: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
    }
    throw error;
  } finally {
    port.dispose();
  }
}

function cancelledQuietly(cancelled: () => boolean): boolean {
  try {
    return cancelled();
  } catch {
    return true;
  }
}
