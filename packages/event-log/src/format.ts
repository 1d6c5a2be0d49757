import type { TrainingEvent } from '@rxfit/core';
import { nonFiniteReplacer, nonFiniteReviver } from '@rxfit/core/operator-kit';

/** The `schema` of the header line that opens every rxfit event log. */
export const LOG_SCHEMA = 'rxfit.events';

/** The format version this package writes and reads. */
export const LOG_VERSION = 1;

/** The first line of a log file: names the format, so a reader can refuse what it does not know. */
export interface LogHeader {
  readonly schema: typeof LOG_SCHEMA;
  readonly version: number;
}

/** One parsed event line and where it ends in the file (for truncating a log back to it). */
export interface LogLine {
  readonly event: TrainingEvent;
  /** 1-based line number in the file. */
  readonly line: number;
  /** Byte offset just after this line's newline. */
  readonly end: number;
}

/** The header line, newline included. */
export function headerLine(): string {
  return `${JSON.stringify({ schema: LOG_SCHEMA, version: LOG_VERSION } satisfies LogHeader)}\n`;
}

/**
 * One event as a JSON line, newline included. JSON has no NaN or Infinity (JSON.stringify
 * writes `null`, which would lose a diverged loss), so non-finite numbers are tagged as
 * `{"$float":"NaN"}` and revived by the reader. The `replayed` flag is never written.
 */
export function serializeEvent(event: TrainingEvent): string {
  return `${JSON.stringify(event, (key, value: unknown) =>
    key === 'replayed' ? undefined : nonFiniteReplacer(key, value),
  )}\n`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isHeader(value: unknown): value is LogHeader {
  return typeof value === 'object' && value !== null && (value as { schema?: unknown }).schema === LOG_SCHEMA;
}

/** Why a parsed value is not an event, or `undefined` when it is one. */
function eventProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (typeof e['runId'] !== 'string') return 'runId is not a string';
  if (typeof e['seq'] !== 'number' || !Number.isInteger(e['seq']) || e['seq'] < 0) return 'seq is not an integer >= 0';
  if (typeof e['time'] !== 'number') return 'time is not a number';
  if (typeof e['type'] !== 'string') return 'type is not a string';
  return undefined;
}

/**
 * Checks that an existing file starts with a header this version can append to.
 * @throws Error naming the file when the first line is not an rxfit v1 header.
 */
export function checkHeader(firstLine: string, path: string): void {
  let value: unknown;
  try {
    value = JSON.parse(firstLine);
  } catch {
    throw new Error(`event log ${path} line 1: not an rxfit event log (the first line is not JSON)`);
  }
  if (!isHeader(value)) {
    throw new Error(`event log ${path} line 1: not an rxfit event log (no {"schema":"${LOG_SCHEMA}"} header)`);
  }
  if (value.version !== LOG_VERSION) {
    throw new Error(
      `event log ${path} line 1: format version ${String(value.version)} is not supported (this reader knows version ${LOG_VERSION})`,
    );
  }
}

/**
 * Parses a whole log file. A last line without its newline that does not parse was torn by a
 * crash during a write: it is dropped and reported through `onTorn`. Any other bad line is an
 * error that names the file and the line number, because it means the file was damaged or edited.
 * Header lines may recur (logs joined with `cat`); events must have increasing `seq` per run.
 * @throws Error naming the file and line.
 */
export function parseLog(bytes: Uint8Array, path: string, onTorn: (message: string) => void): LogLine[] {
  const lines: LogLine[] = [];
  const lastSeq = new Map<string, number>();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let start = 0;
  let lineNo = 0;
  while (start < bytes.length) {
    let stop = bytes.indexOf(0x0a, start);
    const complete = stop !== -1;
    if (!complete) stop = bytes.length;
    lineNo++;
    const text = decoder.decode(bytes.subarray(start, stop));
    const lineStart = start;
    const end = complete ? stop + 1 : stop;
    start = end;
    if (lineNo === 1) {
      if (complete) {
        checkHeader(text, path);
        continue;
      }
      try {
        checkHeader(text, path);
      } catch {
        onTorn(`event log ${path}: dropped a torn header on line 1 (a crash during the first write)`);
      }
      break;
    }
    if (text.trim() === '' && complete) throw new Error(`event log ${path} line ${lineNo}: empty line`);
    let value: unknown;
    try {
      value = JSON.parse(text, nonFiniteReviver);
    } catch (error) {
      if (!complete) {
        onTorn(
          `event log ${path}: dropped a torn last line ${lineNo} (${bytes.length - lineStart} bytes, a crash during a write)`,
        );
        break;
      }
      throw new Error(`event log ${path} line ${lineNo}: invalid JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
    if (isHeader(value)) {
      checkHeader(text, path);
      continue;
    }
    const problem = eventProblem(value);
    if (problem) throw new Error(`event log ${path} line ${lineNo}: not an event: ${problem}`);
    const event = value as TrainingEvent;
    const previous = lastSeq.get(event.runId);
    if (previous !== undefined && event.seq <= previous) {
      throw new Error(
        `event log ${path} line ${lineNo}: seq ${event.seq} does not follow seq ${previous} of run ${event.runId}`,
      );
    }
    lastSeq.set(event.runId, event.seq);
    lines.push({ event: deepFreeze({ ...event, replayed: true as const }), line: lineNo, end });
  }
  return lines;
}
