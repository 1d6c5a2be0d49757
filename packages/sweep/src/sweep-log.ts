import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync, existsSync, ftruncateSync, statSync } from 'node:fs';
import { decode, encode } from './codec.js';
import type { SweepEvent } from './events.js';

/** The first line of a sweep log. */
export const SWEEP_SCHEMA = 'rxfit.sweep';
export const SWEEP_LOG_VERSION = 1;

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
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const complete = text.endsWith('\n') ? lines.slice(0, -1) : lines.slice(0, -1); // the last piece is '' or torn
  const events: SweepEvent[] = [];
  complete.forEach((line, i) => {
    if (line === '') return;
    let value: unknown;
    try {
      value = decode(line);
    } catch (error) {
      throw new Error(`${file}: line ${String(i + 1)} is not JSON (${(error as Error).message})`, { cause: error });
    }
    const record = value as Record<string, unknown>;
    if (i === 0 || record['schema'] !== undefined) {
      if (record['schema'] !== SWEEP_SCHEMA || record['version'] !== SWEEP_LOG_VERSION) {
        throw new Error(`${file}: line ${String(i + 1)} must be {"schema":"${SWEEP_SCHEMA}","version":${String(SWEEP_LOG_VERSION)}}`);
      }
      return;
    }
    if (typeof record['type'] !== 'string' || typeof record['seq'] !== 'number') {
      throw new Error(`${file}: line ${String(i + 1)} is not a sweep event`);
    }
    events.push(Object.freeze({ ...(record as unknown as SweepEvent), replayed: true }));
  });
  return events;
}

/** Appends sweep events to a log, one fsynced line each, cutting a torn tail off first. */
export class SweepLogWriter {
  private readonly fd: number;

  constructor(readonly file: string) {
    const existed = existsSync(file) && statSync(file).size > 0;
    this.fd = openSync(file, existed ? 'r+' : 'w');
    if (existed) {
      const text = readFileSync(file, 'utf8');
      const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
      ftruncateSync(this.fd, keep);
      this.position = keep;
    } else {
      this.write(JSON.stringify({ schema: SWEEP_SCHEMA, version: SWEEP_LOG_VERSION }) + '\n');
    }
  }

  private position = 0;

  append(event: SweepEvent): void {
    const { replayed: _replayed, ...rest } = event;
    this.write(encode(rest) + '\n');
  }

  private write(line: string): void {
    const data = Buffer.from(line);
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd, data, offset, data.length - offset, this.position + offset);
    this.position += data.length;
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
