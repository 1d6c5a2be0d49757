import path from 'node:path';
import { lastValueFrom, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import { callback, fit, toHistory, type TrainingEvent } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { imageFolder, type ColorMode } from '@rxfit/image-folder';
import { earlyStopping } from '@rxfit/early-stopping';
import { modelCheckpoint } from '@rxfit/checkpoint';
import { learningRateScheduler } from '@rxfit/scheduler';
import { csvLogger } from '@rxfit/csv-logger';
import { terminateOnNaN } from '@rxfit/terminate-on-nan';
import { progressBar } from '@rxfit/logger';
import { plotHistory } from '@rxfit/plot';
import { backupAndRestore, eventLog, resumable } from '@rxfit/event-log';
import { seedCnn } from './seed-cnn.js';

/** Options of {@link runSeedScript}: what differs between image sets. */
export interface SeedScriptOptions {
  /** The class folders to train on (`training_set/training_set` in the Kaggle layout). */
  readonly trainDir: string;
  /** The class folders to validate on. */
  readonly testDir: string;
  /** The run folder: CSV, event log, best checkpoint, plots, backup. */
  readonly out: string;
  /** @default 50 */
  readonly epochs?: number;
  /** @default [64, 64] */
  readonly targetSize?: readonly [number, number];
  /** @default 'rgb' */
  readonly colorMode?: ColorMode;
  /** 'binary' for two classes (the seed), 'categorical' for more. @default 'binary' */
  readonly classMode?: 'binary' | 'categorical';
  /** @default true */
  readonly horizontalFlip?: boolean;
  /** The seed's custom callback stops when val_acc exceeds this... @default 0.95 */
  readonly stopValAcc?: number;
  /** ...or the loss falls below this. @default 0.1 */
  readonly stopLoss?: number;
  /** Writes the progress bar. @default process.stdout */
  readonly write?: (text: string) => void;
  /** Operators after the seed's callbacks (the main example adds `tensorBoard`). @default none */
  readonly operators?: readonly MonoTypeOperatorFunction<TrainingEvent>[];
}

/** What a run reached. */
export interface SeedScriptSummary {
  readonly backend: string;
  readonly epochsRun: number;
  readonly bestValAcc: number;
  readonly bestEpoch: number;
}

/**
 * The seed Keras script, line for line: the seed CNN, `flow_from_directory` with rescale 1/255,
 * shear 0.2, zoom 0.2 and horizontal flip, and its six callbacks — a custom stop condition,
 * EarlyStopping(val_loss, patience 3), ModelCheckpoint(val_acc, save_best_only), CSVLogger,
 * TerminateOnNaN and the exponential LearningRateScheduler — plus what rxfit adds: a progress bar,
 * the event log, a backup to resume from, and the accuracy and loss plots.
 *
 * @param options - See {@link SeedScriptOptions}.
 * @returns The backend used, the epochs run and the best validation accuracy.
 */
export async function runSeedScript(options: SeedScriptOptions): Promise<SeedScriptSummary> {
  const { trainDir, testDir, out, epochs = 50, targetSize = [64, 64], colorMode = 'rgb', classMode = 'binary' } = options;
  const { horizontalFlip = true, stopValAcc = 0.95, stopLoss = 0.1 } = options;
  const backend = await useBestBackend();

  // train_datagen = ImageDataGenerator(rescale=1./255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
  // training_set = train_datagen.flow_from_directory(dir, target_size=(64, 64), batch_size=32, class_mode='binary')
  const trainingSet = await imageFolder(trainDir, {
    targetSize, colorMode, batchSize: 32, classMode,
    rescale: 1 / 255, shearRange: 0.2, zoomRange: 0.2, horizontalFlip, seed: 1,
  });
  // test_datagen = ImageDataGenerator(rescale=1./255)
  const testSet = await imageFolder(testDir, { targetSize, colorMode, batchSize: 32, classMode, rescale: 1 / 255, shuffle: false });

  const classes = classMode === 'binary' ? 1 : trainingSet.classNames.length;
  const model = seedCnn({ inputShape: [targetSize[0], targetSize[1], colorMode === 'grayscale' ? 1 : colorMode === 'rgba' ? 4 : 3], classes });

  // class CustomStopper(Callback): on_epoch_end: if val_acc > 0.95 or loss < 0.1: stop_training = True
  const customStop = callback({
    onEpochEnd: (_epoch, logs, run) => {
      if ((logs['val_acc'] ?? 0) > stopValAcc || (logs['loss'] ?? Infinity) < stopLoss) {
        run.stop(`val_acc > ${stopValAcc} or loss < ${stopLoss}`, { by: 'customStop' });
      }
    },
  });
  // def scheduler(epoch, lr): return lr if epoch < 10 else 1e-3 * exp(0.1 * (10 - epoch)), as logged by the seed
  const scheduler = (epoch: number) => (epoch < 10 ? 1e-3 : 1e-3 * Math.exp(0.1 * (10 - epoch)));

  const log = path.join(out, 'events.jsonl');
  const backup = path.join(out, 'backup');
  const run$ = resumable({ dir: backup, log, model }, (resume) =>
    fit(model, trainingSet, { epochs, validationData: testSet, ...resume }),
  ).pipe(
    eventLog(log),
    backupAndRestore({ dir: backup }),
    progressBar(options.write ? { write: options.write } : {}),
    customStop,
    earlyStopping({ monitor: 'val_loss', patience: 3 }),
  );
  // RxJS types `pipe` up to nine operators: the rest of the seed's callbacks in a second pipe.
  const seedRun$ = run$.pipe(
    modelCheckpoint({ filepath: path.join(out, 'best'), monitor: 'val_acc', saveBestOnly: true }),
    csvLogger(path.join(out, 'logfile.csv')),
    terminateOnNaN(),
    learningRateScheduler(scheduler),
    plotHistory({ file: path.join(out, 'history'), metrics: ['loss', 'acc'] }),
  );
  const extended$ = (options.operators ?? []).reduce<Observable<TrainingEvent>>((events$, operator) => events$.pipe(operator), seedRun$);
  const history = await lastValueFrom(extended$.pipe(toHistory()));
  const valAcc = history.history['val_acc'] ?? [];
  const bestValAcc = Math.max(...valAcc);
  return {
    backend: backend.name,
    epochsRun: history.epoch.length,
    bestValAcc,
    bestEpoch: history.epoch[valAcc.indexOf(bestValAcc)] ?? 0,
  };
}

/**
 * The closing lines of a run: what it reached and where its files are.
 *
 * @param out - The run folder.
 * @param summary - What {@link runSeedScript} returned.
 * @returns Lines to print.
 */
export function describeRun(out: string, summary: SeedScriptSummary): string {
  return [
    '',
    `Backend: ${summary.backend}. Epochs run: ${summary.epochsRun}.`,
    `Best val_acc ${summary.bestValAcc.toFixed(4)} (epoch ${summary.bestEpoch + 1}).`,
    `Run folder: ${out}`,
    `  ${path.join(out, 'logfile.csv')}          the CSV log`,
    `  ${path.join(out, 'events.jsonl')}         every event (replayable)`,
    `  ${path.join(out, 'best')}                 the best checkpoint (tf.loadLayersModel format)`,
    `  ${path.join(out, 'history.png')}, .svg    accuracy and loss curves`,
    '',
  ].join('\n');
}
