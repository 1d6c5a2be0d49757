import { closeSync } from 'node:fs';
import {
  nodeLogFileIo,
  nonFiniteReplacer,
  nonFiniteReviver,
  openAppendLog,
  readRegularFileSync,
  type LogHeader,
} from '@rxfit/core/operator-kit';
import type { SweepEvent } from './events.js';

/** The first line of a sweep log. */
const SWEEP_SCHEMA = 'rxfit.sweep';
const SWEEP_LOG_VERSION = 1;

/**
 * Reads a sweep log (`sweep.jsonl`): every event, marked `replayed: true`. A torn last line (a
 * kill during a write) is dropped; any other bad line is an error naming the file and line.
 *
 * ## Example
 * ```ts
 * import { readSweepLog } from '@rxfit/sweep';
 * const events = readSweepLog('sweeps/lr/sweep.jsonl');
 * ```
 * @param file - The log.
 * @returns The events, oldest first; `[]` for a missing or empty file.
 * @throws Error naming the file and line for a line that is not a sweep event.
 */
export function readSweepLog(file: string): SweepEvent[] {
  let text: string;
  try {
    // A FIFO or a device at the path is refused before anything is read.
    text = readRegularFileSync(file).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // The last piece after the final newline is '' or a torn line.
  const complete = text.split('\n').slice(0, -1);
  const events: SweepEvent[] = [];
  complete.forEach((line, i) => {
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line, nonFiniteReviver);
    } catch (error) {
      throw new Error(`${file}: line ${String(i + 1)} is not JSON (${(error as Error).message})`, { cause: error });
    }
    const record = value as Record<string, unknown>;
    if (i === 0 || record['schema'] !== undefined) {
      checkSweepHeader(record, file, i + 1);
      return;
    }
    if (typeof record['type'] !== 'string' || typeof record['seq'] !== 'number') {
      throw new Error(`${file}: line ${String(i + 1)} is not a sweep event`);
    }
    events.push(Object.freeze({ ...(record as unknown as SweepEvent), replayed: true }));
  });
  return events;
}

function checkSweepHeader(record: Record<string, unknown>, file: string, line: number): void {
  if (record['schema'] !== SWEEP_SCHEMA || record['version'] !== SWEEP_LOG_VERSION) {
    throw new Error(`${file}: line ${String(line)} must be {"schema":"${SWEEP_SCHEMA}","version":${String(SWEEP_LOG_VERSION)}}`);
  }
}

const SWEEP_HEADER: LogHeader = {
  line: JSON.stringify({ schema: SWEEP_SCHEMA, version: SWEEP_LOG_VERSION }) + '\n',
  check(firstLine, file) {
    let record: unknown;
    try {
      record = JSON.parse(firstLine);
    } catch {
      record = undefined;
    }
    checkSweepHeader((record ?? {}) as Record<string, unknown>, file, 1);
  },
};

/**
 * Appends sweep events to a log, one fsynced line each, through core's `openAppendLog` (the
 * event log's opener): a torn tail (or a torn header) cut off first, links and special files
 * refused. A repair is reported as a process warning.
 */
export class SweepLogWriter {
  private readonly fd: number;

  constructor(readonly file: string) {
    const { fd, repairs } = openAppendLog('sweep', file, 'sweep log', SWEEP_HEADER, nodeLogFileIo);
    this.fd = fd;
    for (const repair of repairs) process.emitWarning(repair, 'RxfitSweepWarning');
  }

  append(event: SweepEvent): void {
    const { replayed: _replayed, ...rest } = event;
    nodeLogFileIo.write(this.fd, Buffer.from(JSON.stringify(rest, nonFiniteReplacer) + '\n'));
    nodeLogFileIo.sync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
