import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { describeStats, prepareFileTarget } from './file-target.js';

/** How a log file is written; a port so tests can simulate a crash in the middle of a write. */
export interface LogFileIo {
  /** Writes all of `data` at the end of the file. @default a loop over `fs.writeSync` */
  readonly write: (fd: number, data: Uint8Array) => void;
  /** Makes the written data durable. @default `fs.fdatasyncSync` */
  readonly sync: (fd: number) => void;
}

/** The real file system. */
export const nodeLogFileIo: LogFileIo = {
  write(fd, data) {
    for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset);
  },
  sync: (fd) => fdatasyncSync(fd),
};

/** What a log's first line is: written to a new file, checked in an existing one. */
export interface LogHeader {
  /** The header line, newline included. */
  readonly line: string;
  /** Throws, naming `path`, when an existing file's first line is not this log's header. */
  check(firstLine: string, path: string): void;
}

/** A log file opened for appending, repaired and given a header when needed. */
export interface OpenedLog {
  readonly fd: number;
  /** What was repaired on opening (a torn last line cut off), to report as a warning. */
  readonly repairs: readonly string[];
}

const CHUNK = 64 * 1024;

function lastNewlineBefore(fd: number, size: number): number {
  const buffer = Buffer.alloc(CHUNK);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - CHUNK);
    const read = readSync(fd, buffer, 0, end - start, start);
    const at = buffer.subarray(0, read).lastIndexOf(0x0a);
    if (at !== -1) return start + at;
    end = start;
  }
  return -1;
}

function firstLine(fd: number, size: number): string | undefined {
  const parts: Buffer[] = [];
  const buffer = Buffer.alloc(CHUNK);
  for (let start = 0; start < size; start += CHUNK) {
    const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - start), start);
    const at = buffer.subarray(0, read).indexOf(0x0a);
    if (at !== -1) {
      parts.push(Buffer.from(buffer.subarray(0, at)));
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(Buffer.from(buffer.subarray(0, read)));
  }
  return undefined;
}

// 'a+' that neither follows a final link (a dangling one would create its target) nor waits
// for a writer when the path is a FIFO.
const APPEND_FLAGS =
  constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Opens (creating it and its folder when needed) an append-only JSON-lines log: an event log,
 * a sweep log. A new or empty file gets the header line. A file whose last line has no newline
 * was torn by a crash during a write: the torn tail is cut off so the next lines do not glue
 * onto it and break the file (a torn header alone leaves an empty file, which gets the header).
 * A symbolic link or a special file at `path` is refused: the log never writes, creates or
 * cuts a file through a link, and never waits on a FIFO.
 *
 * ## Example
 * ```ts
 * const { fd, repairs } = openAppendLog('sweep', 'runs/sweep.jsonl', 'sweep log', header, nodeLogFileIo);
 * ```
 * @param owner - The operator, named in errors (`eventLog: ... is not a regular file`).
 * @param path - The log file.
 * @param what - How repairs name the file (`event log`).
 * @param header - The log's first line.
 * @param io - How to write (a port for crash tests).
 * @returns The file descriptor, appending, and the repairs made.
 * @throws Error naming the file when it is not this kind of log, a link or a special file.
 */
export function openAppendLog(
  owner: string,
  path: string,
  what: string,
  header: LogHeader,
  io: LogFileIo,
): OpenedLog {
  prepareFileTarget(owner, path, { kind: 'file' });
  const fd = openSync(path, APPEND_FLAGS, 0o666);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`${owner}: ${path} is not a regular file (${describeStats(stats)})`);
    const repairs: string[] = [];
    let size = stats.size;
    if (size > 0) {
      const first = firstLine(fd, size);
      if (first === undefined) {
        // Only a torn header: the file holds no event yet.
        ftruncateSync(fd, 0);
        repairs.push(`${what} ${path}: dropped a torn header (a crash during the first write)`);
        size = 0;
      } else {
        header.check(first, path);
        const tail = Buffer.alloc(1);
        readSync(fd, tail, 0, 1, size - 1);
        if (tail[0] !== 0x0a) {
          const cut = lastNewlineBefore(fd, size) + 1;
          ftruncateSync(fd, cut);
          repairs.push(`${what} ${path}: dropped a torn last line (${size - cut} bytes, a crash during a write)`);
        }
      }
    }
    if (size === 0) {
      io.write(fd, Buffer.from(header.line));
      io.sync(fd);
    }
    return { fd, repairs };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
