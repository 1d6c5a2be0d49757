import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { checkOptions, effectQueue, failRun } from '@rxfit/core/operator-kit';
import { checkBackupFolder, deleteBackup, readBackupSync, saveBackup } from './backup-store.js';

/** Options of {@link backupAndRestore}. */
export interface BackupAndRestoreOptions {
  /** The folder that holds the backup (`backup.json` and one weights file). */
  readonly dir: string;
  /**
   * Delete the folder when the run ends (`completed` or `stopped`; a `failed` run keeps it, as in
   * Keras). With `false`, a final backup marks the run as completed and `resumable` replays it
   * without training again. @default true
   */
  readonly deleteOnComplete?: boolean;
}

const BY = 'backupAndRestore';

/**
 * Backs a run up after every completed epoch, so `resumable` can continue it after a crash:
 * model weights, optimizer state, learning rate, the next epoch and the log position (`seq`).
 *
 * The backup of epoch `e` is written when epoch `e + 1` begins (the loop waits for it through
 * `defer`): by then everything the end of epoch `e` caused has happened (a learning-rate
 * change, a checkpoint, a stop), so the backup and the log agree on one point in the run. A
 * kill during the save leaves the previous backup (temp files + rename).
 *
 * ## Example
 * ```ts
 * import { backupAndRestore, eventLog, resumable } from '@rxfit/event-log';
 * resumable({ dir: 'runs/x/backup', log: 'runs/x/events.jsonl', model }, (resume) => fit(model, data, { epochs: 50, seed: 1, ...resume }))
 *   .pipe(eventLog('runs/x/events.jsonl'), backupAndRestore({ dir: 'runs/x/backup' }));
 * ```
 * @param options - See {@link BackupAndRestoreOptions}.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError at call time for bad options. The stream errors on `trainBegin` when `dir` is
 *   a link, holds files a backup does not write, or holds a backup of another run (the operators
 *   after this one never see the run begin); the run fails when a backup cannot be written.
 */
export function backupAndRestore(options: BackupAndRestoreOptions): MonoTypeOperatorFunction<TrainingEvent> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('backupAndRestore: options must be an object with a dir');
  }
  checkOptions('backupAndRestore', options, ['dir', 'deleteOnComplete']);
  const { dir, deleteOnComplete = true } = options;
  if (typeof dir !== 'string' || dir === '') {
    throw new TypeError(`backupAndRestore: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  }
  if (typeof deleteOnComplete !== 'boolean') {
    throw new TypeError(`backupAndRestore: deleteOnComplete must be a boolean, got ${String(deleteOnComplete)}`);
  }
  return (source) =>
    defer(() => {
      // The last epoch this subscription saw end live: replayed epochs are in the backup already.
      let lastEpochEnd: number | undefined;
      // The rate in force at that point of the log, taken from the events: when the next
      // epochBegin passes, a scheduler may already have set the optimizer to the next epoch's
      // rate, whose learningRateChanged comes after the backup's position and is not in it.
      let learningRate: number | undefined;
      // Saves run one after another, in event order, each awaited by the loop.
      const effects = effectQueue(BY);

      const fail = (what: string) => (error: unknown) => {
        throw new Error(`${BY}: cannot ${what} the backup in ${dir}: ${(error as Error).message}`, { cause: error });
      };
      /**
       * trainBegin: the folder is usable, and holds no backup this run was not resumed from.
       * Synchronous, and thrown: the run fails on this very event, so the operators after this
       * one never see the run begin (a CSV logger does not empty its file for a run that fails).
       */
      const checkFolder = (runId: string): void => {
        checkBackupFolder(BY, dir);
        const found = readBackupSync(dir);
        if (found && found.runId !== runId) {
          throw new Error(
            `${BY}: ${dir} holds a backup of run ${found.runId} (${found.completed ? 'completed' : `interrupted after epoch ${found.epoch}`}), ` +
              'and this run was not resumed from it. To continue that run, wrap the run in ' +
              `resumable({ dir: ${JSON.stringify(dir)}, model, log }, (resume) => fit(model, data, { ...options, ...resume })); ` +
              'to start afresh, delete the folder. The backup is left as it is.',
          );
        }
      };

      return source.pipe(
        tap((event) => {
          const control = controlOf(event, 'backupAndRestore');
          if (!control) return;
          if (event.type === 'trainBegin') {
            checkFolder(event.runId);
            return;
          }
          if (event.type === 'epochEnd') {
            lastEpochEnd = event.epoch;
            learningRate = event.logs['lr'] ?? control.learningRate;
            return;
          }
          if (event.type === 'learningRateChanged') {
            learningRate = event.to;
            return;
          }
          const model = control.model;
          if (event.type === 'epochBegin' && lastEpochEnd !== undefined) {
            if (!model) {
              failRun(control, new Error(`${BY}: the run has no model to back up (dir ${dir})`));
              return;
            }
            const position = {
              runId: event.runId,
              epoch: lastEpochEnd,
              nextEpoch: event.epoch,
              lastSeq: event.seq - 1,
              learningRate: learningRate ?? control.learningRate,
              completed: false,
            };
            effects.run(control, () => saveBackup(dir, model, position).catch(fail('write')));
          } else if (event.type === 'trainEnd' && event.reason !== 'failed') {
            if (deleteOnComplete) {
              effects.run(control, () => deleteBackup(dir).catch(fail('delete')));
            } else if (model && lastEpochEnd !== undefined) {
              const position = {
                runId: event.runId,
                epoch: lastEpochEnd,
                nextEpoch: lastEpochEnd + 1,
                lastSeq: event.seq,
                learningRate: learningRate ?? control.learningRate,
                completed: true,
              };
              effects.run(control, () => saveBackup(dir, model, position).catch(fail('write')));
            }
          }
        }),
      );
    });
}
