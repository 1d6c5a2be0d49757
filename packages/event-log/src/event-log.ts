import { closeSync } from 'node:fs';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import {
  checkInteger,
  checkOptions,
  failRun,
  nodeLogFileIo,
  openAppendLog,
  type LogFileIo,
  type LogHeader,
} from '@rxfit/core/operator-kit';
import { checkHeader, headerLine, serializeEvent } from './format.js';

/** Options of {@link eventLog}. */
export interface EventLogOptions {
  /** Buffered bytes that trigger a write (without fsync) before the epoch ends. @default 1048576 (1 MiB) */
  readonly maxBufferBytes?: number;
  /** Call fsync (fdatasync) at each flush point, so the log survives a power loss as well as a kill. @default true */
  readonly fsync?: boolean;
  /** The file-system port (tests inject a failing or crashing writer). @default the real file system */
  readonly io?: LogFileIo;
}

const BY = 'eventLog';
/** The rxfit v1 header a log opens with, and the check of an existing log's first line. */
const EVENT_LOG_HEADER: LogHeader = { line: headerLine(), check: checkHeader };

/** Events after which the buffer is written and synced. */
function isFlushPoint(event: TrainingEvent): boolean {
  // epochBegin too: the events that follow an epochEnd (a stop, a learning-rate change, a
  // checkpoint) are durable before the next epoch's backup refers to them.
  return event.type === 'epochEnd' || event.type === 'epochBegin' || event.type === 'trainEnd';
}

/**
 * Appends every live event of a run to a JSON Lines file: a header line when the file is
 * created, then one event per line in `seq` order. Replayed events are not appended again.
 *
 * Per-batch cost is a `JSON.stringify` into a memory buffer. The buffer is written and synced
 * at every `epochBegin`, `epochEnd` and `trainEnd`, before the
 * event goes on to the next operator, so a kill loses at most the unfinished epoch and a backup
 * taken by a later operator never points past the log. Each flush is one write of whole lines; a
 * line torn by a kill during that write is cut off when the file is opened again.
 *
 * ## Example
 * ```ts
 * import { eventLog } from '@rxfit/event-log';
 * await lastValueFrom(fit(model, data, { epochs: 10 }).pipe(eventLog('runs/x/events.jsonl'), earlyStopping()));
 * ```
 * @param path - The log file; created with its folder when missing, appended to otherwise.
 * @param options - See {@link EventLogOptions}.
 * @returns An operator that passes every event through unchanged.
 * @throws TypeError/RangeError at call time for bad options; the run fails when the file cannot be written.
 */
export function eventLog(path: string, options: EventLogOptions = {}): MonoTypeOperatorFunction<TrainingEvent> {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`eventLog: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  checkOptions('eventLog', options, ['maxBufferBytes', 'fsync', 'io']);
  const { maxBufferBytes = 1 << 20, fsync = true, io = nodeLogFileIo } = options;
  checkInteger('eventLog', 'maxBufferBytes', maxBufferBytes, 1);
  if (typeof fsync !== 'boolean') throw new TypeError(`eventLog: fsync must be a boolean, got ${String(fsync)}`);
  if (typeof io?.write !== 'function' || typeof io.sync !== 'function') {
    throw new TypeError('eventLog: io must have write(fd, data) and sync(fd) functions');
  }

  return (source) =>
    new Observable<TrainingEvent>((subscriber) => {
      let fd: number | undefined;
      let chunks: string[] = [];
      let buffered = 0;
      let broken = false;

      const flush = (sync: boolean): void => {
        if (fd === undefined || chunks.length === 0) return;
        const data = Buffer.from(chunks.join(''));
        chunks = [];
        buffered = 0;
        io.write(fd, data);
        if (sync && fsync) io.sync(fd);
      };
      const close = (): void => {
        const open = fd;
        if (open === undefined) return;
        try {
          if (!broken) flush(true);
        } finally {
          fd = undefined;
          closeSync(open);
        }
      };

      const subscription = source.subscribe({
        next(event) {
          if (event.replayed !== true && !broken) {
            const control = controlOf(event, 'eventLog');
            try {
              if (fd === undefined) {
                const opened = openAppendLog(BY, path, 'event log', EVENT_LOG_HEADER, io);
                fd = opened.fd;
                for (const repair of opened.repairs) {
                  if (control) control.warn(repair, { by: BY });
                  else process.emitWarning(repair, 'RxfitEventLogWarning');
                }
              }
              const line = serializeEvent(event);
              chunks.push(line);
              buffered += Buffer.byteLength(line);
              // trainEnd is the last event of a run (core refuses any after it): nothing follows to flush.
              if (isFlushPoint(event)) flush(true);
              else if (buffered >= maxBufferBytes) flush(false);
            } catch (cause) {
              broken = true;
              const message = (cause as Error).message;
              // The target checks already name the operator and the file.
              const error = new Error(message.startsWith(`${BY}: `) ? message : `${BY}: cannot write ${path}: ${message}`, { cause });
              if (control) failRun(control, error);
              else {
                subscriber.error(error);
                return;
              }
            }
          }
          subscriber.next(event);
        },
        error(error: unknown) {
          try {
            close();
          } catch {
            // The run's own error is the one to report.
          }
          subscriber.error(error);
        },
        complete() {
          try {
            close();
          } catch (error) {
            subscriber.error(new Error(`eventLog: cannot write ${path}: ${(error as Error).message}`, { cause: error }));
            return;
          }
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        try {
          close();
        } catch {
          // Unsubscribed: nobody is left to tell; the next open repairs a torn tail.
        }
      };
    });
}
