import type * as tf from '@tensorflow/tfjs';
import { concat, defer, from, switchMap, tap, type Observable } from 'rxjs';
import { open } from 'node:fs/promises';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { checkOptions, prepareFileTarget } from '@rxfit/core/operator-kit';
import { readBackup, restoreBackup, type BackupMeta } from './backup-store.js';
import { readLogLines } from './read-event-log.js';

/** Options of {@link resumable}. */
export interface ResumableOptions {
  /** The backup folder given to `backupAndRestore`. */
  readonly dir: string;
  /** The compiled model the factory trains: its weights and optimizer state are restored. */
  readonly model: tf.LayersModel;
  /**
   * The log given to `eventLog`. When set, the interrupted run's logged events are replayed so
   * the operators rebuild their state, and the log is cut back to the backup's position.
   * Without it, only the model, optimizer and epoch are restored (as Keras' BackupAndRestore).
   */
  readonly log?: string;
  /** Told when a torn last line of the log is dropped. @default `process.emitWarning` */
  readonly onWarning?: (message: string) => void;
}

/** Where a resumed run continues: spread into `fit`'s options. Empty for a fresh run. */
export interface ResumePoint {
  readonly initialEpoch?: number;
  readonly runId?: string;
  readonly firstSeq?: number;
}

/** The `custom` event a resumed run emits right after its `trainBegin`. */
export const RESUMED_EVENT = 'resumed';

/** The `data` of a {@link RESUMED_EVENT} event. */
export interface ResumedData {
  /** The epoch the run continues with. */
  readonly epoch: number;
  /** The `seq` of the last event restored from the backup and the log. */
  readonly lastSeq: number;
  /** The backup folder. */
  readonly dir: string;
  /** What happened, for people (progress bars print it). */
  readonly message: string;
}

/** Cuts the log back to the end of the backup's last event; returns the run's events up to it. */
async function rewindLog(path: string, meta: BackupMeta, onWarning?: (message: string) => void): Promise<TrainingEvent[]> {
  const lines = await readLogLines(path, onWarning);
  const cut = lines.findIndex(({ event }) => event.runId === meta.runId && event.seq === meta.lastSeq);
  if (cut === -1) {
    throw new Error(
      `resumable: the log ${path} does not hold seq ${meta.lastSeq} of run ${meta.runId}, where the backup stands: give the log that eventLog wrote for this run`,
    );
  }
  const after = lines.slice(cut + 1);
  const stranger = after.find(({ event }) => event.runId !== meta.runId);
  if (stranger) {
    throw new Error(
      `resumable: the log ${path} holds run ${stranger.event.runId} (line ${stranger.line}) after the interrupted run ${meta.runId}; refusing to cut it`,
    );
  }
  // Events after the backup belong to the unfinished epoch, which runs again: drop them (and a
  // torn tail) so the rerun's events are not logged twice. Never through a link (eventLog's rule).
  prepareFileTarget('resumable', path, { kind: 'file' });
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(lines[cut]!.end);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  // Replayed as logged, a trainBegin per earlier start included: by core's run rule
  // (decisionFold), events of the same run carry every operator's state on.
  return lines.slice(0, cut + 1).filter(({ event }) => event.runId === meta.runId).map(({ event }) => event);
}

/**
 * Makes a run resumable after a crash: wraps the factory that starts it. Without a backup it
 * simply runs `factory({})`. With one (left by `backupAndRestore` in `dir`), it restores the
 * model's weights, the optimizer's state and the learning rate, replays the interrupted run's
 * logged events (marked `replayed`) so every operator rebuilds its state, cuts the log back to
 * the backup, then continues live with `factory({ initialEpoch, runId, firstSeq })`: the same
 * run id, the next epoch, the next `seq`. Running the same program again is the whole recipe.
 *
 * ## Example
 * ```ts
 * import { backupAndRestore, eventLog, resumable } from '@rxfit/event-log';
 * const run$ = resumable({ dir: 'runs/x/backup', log: 'runs/x/events.jsonl', model }, (resume) =>
 *   fit(model, data, { epochs: 50, seed: 1, ...resume }),
 * ).pipe(eventLog('runs/x/events.jsonl'), backupAndRestore({ dir: 'runs/x/backup' }), earlyStopping());
 * ```
 * @param options - See {@link ResumableOptions}.
 * @param factory - Starts the run; spread its argument into `fit`'s options (give `fit` a `seed`
 *   so the data order does not depend on where the run resumed).
 * @returns A cold Observable: the replayed events, then the live run.
 * @throws TypeError at call time for bad options; the stream errors when the backup or log cannot be used.
 */
export function resumable(
  options: ResumableOptions,
  factory: (resume: ResumePoint) => Observable<TrainingEvent>,
): Observable<TrainingEvent> {
  if (typeof options !== 'object' || options === null) throw new TypeError('resumable: options must be an object');
  checkOptions('resumable', options, ['dir', 'model', 'log', 'onWarning']);
  const { dir, model, log, onWarning } = options;
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`resumable: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  if (typeof model !== 'object' || model === null || typeof (model as { getWeights?: unknown }).getWeights !== 'function') {
    throw new TypeError('resumable: model must be the tf.LayersModel the factory trains');
  }
  if (log !== undefined && (typeof log !== 'string' || log === '')) {
    throw new TypeError(`resumable: log must be a non-empty string, got ${JSON.stringify(log)}`);
  }
  if (onWarning !== undefined && typeof onWarning !== 'function') {
    throw new TypeError(`resumable: onWarning must be a function, got ${typeof onWarning}`);
  }
  if (typeof factory !== 'function') throw new TypeError(`resumable: factory must be a function, got ${typeof factory}`);

  const prepare = async (): Promise<Observable<TrainingEvent>> => {
    const meta = await readBackup(dir);
    if (!meta) return factory({});
    await restoreBackup(dir, meta, model);
    const replayed = log === undefined ? [] : await rewindLog(log, meta, onWarning);
    if (meta.completed) return from(replayed);
    let announced = false;
    const live = factory({ initialEpoch: meta.nextEpoch, runId: meta.runId, firstSeq: meta.lastSeq + 1 }).pipe(
      tap((event) => {
        if (announced || event.type !== 'trainBegin') return;
        announced = true;
        controlOf(event)?.emit(RESUMED_EVENT, {
          epoch: meta.nextEpoch,
          lastSeq: meta.lastSeq,
          dir,
          message: `Resumed run ${meta.runId} from the backup in ${dir}: continuing with epoch ${meta.nextEpoch + 1}`,
        } satisfies ResumedData);
      }),
    );
    return concat(from(replayed), live);
  };
  return defer(() => from(prepare())).pipe(switchMap((run$) => run$));
}
