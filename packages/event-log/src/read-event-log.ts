import { Observable } from 'rxjs';
import { type TrainingEvent } from '@rxfit/core';
import { checkOptions, readRegularFile } from '@rxfit/core/operator-kit';
import { parseLog, type LogLine } from './format.js';
import { summarizeRuns, type RunSummary } from './run-summaries.js';

/** Options of {@link readEventLog} and {@link listRuns}. */
export interface ReadEventLogOptions {
  /** Replay only this run's events (a file may hold several appended runs). @default every run */
  readonly runId?: string;
  /**
   * Told when a torn last line (a crash during a write) is dropped.
   * @default `process.emitWarning(message, 'RxfitEventLogWarning')`
   */
  readonly onWarning?: (message: string) => void;
}

const defaultWarning = (message: string): void => process.emitWarning(message, 'RxfitEventLogWarning');

/** Reads and parses a log file (shared by the reader, {@link listRuns} and `resumable`). */
export async function readLogLines(path: string, onWarning: (message: string) => void = defaultWarning): Promise<LogLine[]> {
  let bytes: Uint8Array;
  try {
    // A regular file only: a FIFO or a link to a device would hang the reader or fill memory.
    bytes = await readRegularFile(path);
  } catch (error) {
    throw new Error(`readEventLog: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseLog(bytes, path, onWarning);
}

function checkReadOptions(owner: string, path: unknown, options: ReadEventLogOptions): void {
  checkOptions(owner, options, ['runId', 'onWarning']);
  if (typeof path !== 'string' || path === '') throw new TypeError(`${owner}: path must be a non-empty string, got ${String(path)}`);
  if (options.runId !== undefined && typeof options.runId !== 'string') {
    throw new TypeError(`${owner}: runId must be a string, got ${String(options.runId)}`);
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new TypeError(`${owner}: onWarning must be a function, got ${typeof options.onWarning}`);
  }
}

/**
 * Replays a JSON Lines event log as a cold Observable of events marked `replayed: true`, so the
 * operators and sinks that run live can rebuild their state or output from it offline.
 *
 * Each event is a new frozen object (no control: operators fold it and do no side effects).
 * A torn last line, left by a crash during a write, is dropped with a warning; any other bad
 * line fails the stream with an error naming the file and line number.
 *
 * ## Example
 * ```ts
 * import { readEventLog } from '@rxfit/event-log';
 * const { history } = await lastValueFrom(readEventLog('runs/x/events.jsonl', { runId }).pipe(toHistory()));
 * ```
 * @param path - The log file written by `eventLog`.
 * @param options - See {@link ReadEventLogOptions}.
 * @returns The logged events, in file order.
 * @throws TypeError at call time for bad options; the stream errors for unreadable or bad files.
 */
export function readEventLog(path: string, options: ReadEventLogOptions = {}): Observable<TrainingEvent> {
  checkReadOptions('readEventLog', path, options);
  return new Observable<TrainingEvent>((subscriber) => {
    readLogLines(path, options.onWarning).then(
      (lines) => {
        for (const { event } of lines) {
          if (subscriber.closed) return;
          if (options.runId === undefined || event.runId === options.runId) subscriber.next(event);
        }
        subscriber.complete();
      },
      (error: unknown) => subscriber.error(error),
    );
  });
}

/**
 * Lists the runs a log holds, in order of first appearance, with how far each got.
 *
 * ## Example
 * ```ts
 * import { listRuns, readEventLog } from '@rxfit/event-log';
 * const [last] = (await listRuns('events.jsonl')).slice(-1);
 * readEventLog('events.jsonl', { runId: last.runId }).subscribe(console.log);
 * ```
 * @param path - The log file.
 * @param options - `onWarning` as in {@link readEventLog} (`runId` is ignored).
 * @returns One {@link RunSummary} per run.
 * @throws Error for an unreadable file or a bad line (the promise rejects).
 */
export async function listRuns(path: string, options: ReadEventLogOptions = {}): Promise<RunSummary[]> {
  checkReadOptions('listRuns', path, options);
  const lines = await readLogLines(path, options.onWarning);
  return summarizeRuns(lines.map(({ event }) => event));
}
