import type * as tf from '@tensorflow/tfjs';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, decisionFold, type RunControl, type TrainingEvent } from '@rxfit/core';
import {
  checkBoolean,
  checkInteger,
  checkOneOf,
  checkOptions,
  effectQueue,
} from '@rxfit/core/operator-kit';
import { join } from 'node:path';
import { EventFile, nodeEventFileSystem, type EventFileSystem } from './event-file.js';
import { DEFAULT_BUCKET_COUNT, histogramBuckets } from './histogram.js';
import {
  tensorBoardDecider,
  type RunFolder,
  type SummaryWrite,
  type TensorBoardSettings,
} from './decider.js';
import { summaryRecord, type HParamValue } from './summary.js';

const BY = 'tensorBoard';

/** Options of {@link tensorBoard}; the defaults are Keras'. */
export interface TensorBoardOptions {
  /** The folder of the logs: runs go to `logDir/train` and `logDir/validation` (Keras' `log_dir`). */
  readonly logDir: string;
  /**
   * `'epoch'`: summaries at each epoch end only. `'batch'` or an integer n: also the batch logs
   * (`batch_<metric>`) every n batches, at step = the global batch count (Keras' `update_freq`).
   * @default 'epoch'
   */
  readonly updateFreq?: 'epoch' | 'batch' | number;
  /** Epochs between weight histograms (`<model>/<layer>/<weight>/histogram`); 0: none (Keras' `histogram_freq`). @default 0 */
  readonly histogramFreq?: number;
  /** Buckets of each histogram. @default 30 (TensorBoard's) */
  readonly histogramBuckets?: number;
  /** Hyperparameters shown by TensorBoard's HParams tab (written to `logDir` when a run begins). @default none */
  readonly hparams?: Readonly<Record<string, HParamValue>>;
  /** Write rxfit's provenance as text (`rxfit/stop_reason`, `rxfit/learning_rate`, `rxfit/checkpoints`, `rxfit/run`, `rxfit/warnings`). @default true */
  readonly provenance?: boolean;
  /** The file system port. @default the node file system */
  readonly fileSystem?: EventFileSystem;
}

const OPTION_NAMES = [
  'logDir',
  'updateFreq',
  'histogramFreq',
  'histogramBuckets',
  'hparams',
  'provenance',
  'fileSystem',
] as const;

/**
 * Keras' `TensorBoard` callback: writes TensorBoard event files (TFRecord-framed `Event`
 * protobufs holding TF2 tensor summaries) in pure TypeScript, on every tfjs backend.
 *
 * Keras' layout and tags: `logDir/train` gets `epoch_<metric>` and `epoch_learning_rate` at
 * step = epoch, `batch_<metric>` every `updateFreq` batches at step = global batch count, and
 * `<model>/<layer>/<weight>/histogram` every `histogramFreq` epochs; `logDir/validation` gets
 * `epoch_<metric>` and `evaluation_<metric>_vs_iterations`. rxfit's provenance (who stopped the
 * run and why, who changed the learning rate, which checkpoints were saved) goes to text
 * summaries. Files are written and fsynced at each epoch end (the loop waits), and can be read
 * while the run goes on. A replayed log is converted: its events are written too, except those
 * of a run that a live run then resumes (it wrote them already); histograms need weights and are
 * written by live runs only.
 *
 * ## Example
 * ```ts
 * import { tensorBoard } from '@rxfit/tensorboard';
 * await lastValueFrom(fit(model, data, { epochs: 10, validationSplit: 0.2 }).pipe(
 *   tensorBoard({ logDir: 'runs/x/tensorboard', updateFreq: 'batch', histogramFreq: 1 }),
 * )); // then: tensorboard --logdir runs
 * ```
 * @param options - See {@link TensorBoardOptions}.
 * @returns An operator that passes every event through unchanged and writes the event files.
 * @throws TypeError/RangeError naming the option and the value for a bad option.
 */
export function tensorBoard(options: TensorBoardOptions): MonoTypeOperatorFunction<TrainingEvent> {
  const settings = checkSettings(options);
  const { logDir, fs, buckets } = settings;

  return (source) =>
    new Observable<TrainingEvent>((subscriber) => {
      const fold = decisionFold(tensorBoardDecider(settings));
      // Every file operation of this subscription, in order; the loop waits for those of a live
      // run, and after a failure nothing more is written.
      const effects = effectQueue(BY);
      /** The open files of the current run, by run folder. */
      let files = new Map<RunFolder, EventFile>();
      let runWallTime = Date.now() / 1000;
      /** A replayed run's summaries, held until it is known whether a live run resumes it. */
      let replayed: { runId: string; writes: SummaryWrite[] } | undefined;

      const fileOf = (folder: RunFolder): EventFile => {
        let file = files.get(folder);
        if (!file) {
          file = new EventFile(folder === '.' ? logDir : join(logDir, folder), runWallTime, fs);
          files.set(folder, file);
        }
        return file;
      };
      const append = (writes: readonly SummaryWrite[]): void => {
        for (const write of writes)
          fileOf(write.folder).append(summaryRecord(write.wallTime, write.step, write.value));
      };
      /** Lets go of the current files (new records go to new ones) and queues closing them. */
      const closeAll = (control: RunControl | undefined): void => {
        const open = [...files.values()];
        files = new Map();
        effects.run(control, async () => {
          for (const file of open) {
            try {
              await file.flush();
            } finally {
              await file.close();
            }
          }
        });
        // After a failure the queue runs nothing more: the handles are let go all the same
        // (closing twice is a no-op; the failure itself is reported by the queue).
        void effects
          .idle()
          .catch(() => undefined)
          .then(() => Promise.allSettled(open.map((file) => file.close())));
      };
      /** Writes a held replayed run (a conversion): no live run resumed it. */
      const writeReplayed = (): void => {
        if (!replayed) return;
        append(replayed.writes);
        replayed = undefined;
        // A failure is reported by the next awaited write, or by the end of the replay.
        closeAll(undefined);
      };

      const subscription = source.subscribe({
        next: (event) => {
          const control = controlOf(event);
          const commands = fold.next(event);
          if (!control) {
            // Replayed: hold the summaries of this run (a live resume would make them duplicates).
            for (const command of commands) {
              if (command.type === 'begin' && replayed?.runId !== command.runId) {
                writeReplayed();
                runWallTime = command.wallTime;
                replayed = { runId: command.runId, writes: [] };
              }
              if (command.type === 'write') {
                replayed ??= { runId: event.runId, writes: [] };
                replayed.writes.push(...command.writes);
              }
            }
            subscriber.next(event);
            return;
          }
          for (const command of commands) {
            switch (command.type) {
              case 'begin':
                // A live run: a replayed run with its id is this run's past, already in its files.
                if (replayed?.runId === command.runId) replayed = undefined;
                else writeReplayed();
                closeAll(undefined);
                runWallTime = command.wallTime;
                // Files a run will write are checked when it begins (the folder exists and is writable).
                effects.run(control, () =>
                  fs.mkdir(join(logDir, 'train')).catch((error: unknown) => {
                    throw new Error(
                      `${BY}: cannot create '${join(logDir, 'train')}': ${error instanceof Error ? error.message : String(error)}`,
                      { cause: error },
                    );
                  }),
                );
                break;
              case 'write':
                append(command.writes);
                break;
              case 'histograms': {
                const model = control.model;
                if (!model) break;
                // Read now, before the next step changes the weights; the queue awaits the values.
                const reads = readWeights(model);
                reads.catch(() => undefined); // a failure is reported where the queue awaits it
                const { epoch, wallTime } = command;
                effects.run(control, async () => {
                  for (const { tag, values } of await reads) {
                    fileOf('train').append(
                      summaryRecord(wallTime, epoch, {
                        kind: 'histogram',
                        tag,
                        buckets: histogramBuckets(values, buckets),
                      }),
                    );
                  }
                });
                break;
              }
              case 'flush': {
                const open = [...files.values()];
                effects.run(control, async () => {
                  for (const file of open) await file.flush();
                });
                break;
              }
              case 'end':
                closeAll(control);
                break;
            }
          }
          subscriber.next(event);
        },
        error: (error: unknown) => {
          closeAll(undefined);
          void effects.idle().then(
            () => subscriber.error(error),
            () => subscriber.error(error),
          );
        },
        complete: () => {
          writeReplayed();
          closeAll(undefined);
          effects.idle().then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
      });
      return () => {
        subscription.unsubscribe();
        // A cancelled run: write what it has, then let the files go.
        closeAll(undefined);
      };
    });
}

/**
 * Starts reading every weight of the model now (asynchronously: `data()`, never `dataSync`),
 * tagged as Keras tags histograms: `<model>/<layer>/<weight>/histogram`.
 */
function readWeights(
  model: tf.LayersModel,
): Promise<{ tag: string; values: Float32Array | Int32Array | Uint8Array }[]> {
  const reads = model.layers.flatMap((layer) =>
    layer.weights.map(async (weight) => {
      const name = (weight.originalName.split('/').pop() ?? weight.name).replace(/:/g, '_');
      return {
        tag: `${model.name}/${layer.name}/${name}/histogram`,
        values: await weight.read().data(),
      };
    }),
  );
  return Promise.all(reads);
}

interface Settings extends TensorBoardSettings {
  readonly logDir: string;
  readonly fs: EventFileSystem;
  readonly buckets: number;
}

function checkSettings(options: TensorBoardOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${BY}: options must be an object with a logDir, got ${String(options)}`);
  }
  checkOptions(BY, options, OPTION_NAMES);
  const {
    logDir,
    updateFreq = 'epoch',
    histogramFreq = 0,
    histogramBuckets: buckets = DEFAULT_BUCKET_COUNT,
    hparams,
    provenance = true,
    fileSystem = nodeEventFileSystem,
  } = options;
  if (typeof logDir !== 'string' || logDir === '') {
    throw new TypeError(`${BY}: logDir must be a non-empty path, got ${JSON.stringify(logDir)}`);
  }
  if (typeof updateFreq === 'number') checkInteger(BY, 'updateFreq', updateFreq, 1);
  else checkOneOf(BY, 'updateFreq', updateFreq, ['epoch', 'batch']);
  checkInteger(BY, 'histogramFreq', histogramFreq, 0);
  checkInteger(BY, 'histogramBuckets', buckets, 1);
  checkBoolean(BY, 'provenance', provenance);
  if (hparams !== undefined) {
    if (typeof hparams !== 'object' || hparams === null || Array.isArray(hparams)) {
      throw new TypeError(
        `${BY}: hparams must be an object of numbers, strings and booleans, got ${JSON.stringify(hparams)}`,
      );
    }
    for (const [name, value] of Object.entries(hparams)) {
      if (
        !['number', 'string', 'boolean'].includes(typeof value) ||
        (typeof value === 'number' && !Number.isFinite(value))
      ) {
        throw new TypeError(
          `${BY}: hparams.${name} must be a finite number, a string or a boolean, got ${JSON.stringify(value)}`,
        );
      }
    }
  }
  if (
    typeof fileSystem !== 'object' ||
    typeof fileSystem.mkdir !== 'function' ||
    typeof fileSystem.openAppend !== 'function'
  ) {
    throw new TypeError(`${BY}: fileSystem must implement mkdir and openAppend`);
  }
  return {
    logDir,
    updateFreq: updateFreq === 'batch' ? 1 : updateFreq,
    histogramFreq,
    provenance,
    hparams: hparams === undefined ? undefined : { ...hparams },
    fs: fileSystem,
    buckets,
  };
}
