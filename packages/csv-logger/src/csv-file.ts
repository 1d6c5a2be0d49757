import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseString } from 'fast-csv';
import { prepareFileTarget, readRegularFile, writeFileAtomic } from '@rxfit/core/operator-kit';
import { ROW_END, formatRow, rowCells, type CsvDialect } from './format.js';
import type { CsvRow } from './decider.js';

/** The file system calls the logger makes; tests may inject failures. */
export interface CsvFileSystem {
  /** The file's text, or `undefined` when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Replaces the whole file: a temporary file, fsync, rename, so a crash leaves old or new. */
  writeAtomically(path: string, content: string): Promise<void>;
  /** Appends whole rows and fsyncs them (one row per epoch, as Keras' CSVLogger flushes). */
  appendText(path: string, content: string): Promise<void>;
  /**
   * Called when a run begins, before the first batch: makes sure the file can be written (the
   * node port creates its folder, and refuses a link or a special file at the path).
   */
  checkWritable(path: string): Promise<void>;
}

/**
 * The real file system: reads, and whole-file writes through a temporary file in the same
 * directory, fsync, rename and a directory fsync, so a crash leaves the old file or the new one.
 *
 * ## Example
 * ```ts
 * import { nodeFileSystem } from '@rxfit/csv-logger';
 * await nodeFileSystem.writeAtomically('log.csv', 'epoch,loss\r\n0,1.0\r\n');
 * ```
 */
export const nodeFileSystem: CsvFileSystem = {
  async readText(path) {
    try {
      return (await readRegularFile(path)).toString('utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw fileError(path, 'read', error);
    }
  },

  async writeAtomically(path, content) {
    try {
      await writeFileAtomic(path, content);
    } catch (error) {
      throw fileError(path, 'write', error);
    }
  },

  async appendText(path, content) {
    try {
      // 'a' never follows into a special file: checkWritable refused one at trainBegin.
      const handle = await open(path, 'a');
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw fileError(path, 'write', error);
    }
  },

  async checkWritable(path) {
    prepareFileTarget('csvLogger', path, { kind: 'file' });
  },
};

/** The file's text as the logger holds it between writes, and its header. */
export interface CsvFileContent {
  readonly text: string;
  /** The header's columns (`epoch` included), once there is a header. */
  readonly columns: readonly string[] | undefined;
}

/**
 * Reads the header of existing CSV text: the fields of its first line, or `undefined` when the
 * first line is empty (Keras writes a header then).
 */
export async function readHeader(text: string, dialect: CsvDialect): Promise<string[] | undefined> {
  const end = text.indexOf('\n');
  const line = (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
  if (line === '') return undefined;
  return new Promise<string[]>((resolve, reject) => {
    const rows: string[][] = [];
    parseString<string[], string[]>(line, { delimiter: dialect.separator, headers: false })
      .on('error', reject)
      .on('data', (row: string[]) => rows.push(row))
      .on('end', () => resolve(rows[0] ?? []));
  });
}

/**
 * Cuts a torn last line, as the event log does on reopening: a crash during an append leaves a
 * row without its line end and with fewer fields than the header. A last line that has all its
 * fields is kept (a file written by another tool may just lack its final line end): rxfit never
 * deletes what it did not write.
 */
export function withoutTornLine(
  text: string,
  columns: readonly string[] | undefined,
  dialect: CsvDialect,
): { text: string; torn: string | undefined } {
  if (text === '' || text.endsWith('\n') || columns === undefined) return { text, torn: undefined };
  const end = text.lastIndexOf('\n') + 1;
  if (end === 0) return { text, torn: undefined }; // the header line itself
  const last = text.slice(end);
  if (fieldCount(last, dialect.separator) >= columns.length) return { text, torn: undefined };
  return { text: text.slice(0, end), torn: last };
}

/** The fields of one CSV line, counting separators outside quotes. */
function fieldCount(line: string, separator: string): number {
  let count = 1;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) count++;
  }
  return count;
}

/** Text that ends a row, so that what follows starts on a line of its own. */
export function endLine(text: string): string {
  return text === '' || text.endsWith('\n') ? text : text + ROW_END;
}

/**
 * The text of a resumed run's file: the existing text cut after the last row the interrupted run
 * is known (from its replayed events) to have written, then the known rows that did not reach the
 * file. Rows after the cut are from the epoch that was interrupted and is run again.
 */
export async function reconcile(
  existing: CsvFileContent,
  rows: readonly CsvRow[],
  columns: readonly string[],
  dialect: CsvDialect,
): Promise<string> {
  const lines = await Promise.all(
    rows.map(async (row) =>
      (await formatRow(rowCells(columns, row.epoch, row.logs), dialect)).slice(0, -ROW_END.length),
    ),
  );
  const starts = lineStarts(existing.text);
  for (let k = rows.length - 1; k >= 0; k--) {
    for (let i = starts.length - 1; i >= 0; i--) {
      const { start, end, next } = starts[i]!;
      if (existing.text.slice(start, end) === lines[k]) {
        const kept = existing.text.slice(0, next);
        return (
          endLine(kept) +
          lines
            .slice(k + 1)
            .map((line) => line + ROW_END)
            .join('')
        );
      }
    }
  }
  return endLine(existing.text) + lines.map((line) => line + ROW_END).join('');
}

function lineStarts(text: string): { start: number; end: number; next: number }[] {
  const result: { start: number; end: number; next: number }[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length : newline + 1;
    const end =
      newline === -1
        ? text.length
        : newline > start && text[newline - 1] === '\r'
          ? newline - 1
          : newline;
    result.push({ start, end, next });
    start = next;
  }
  return result;
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/** The error a sink reports for a failed file operation: names the file and says why in words (exported for tests). */
export function fileError(path: string, action: 'read' | 'write', cause: unknown): Error {
  const directory = dirname(path);
  const reasons: Record<string, string> = {
    ENOENT: `the directory '${directory}' does not exist`,
    ENOTDIR: `a part of '${directory}' is not a directory`,
    EACCES: `permission denied (is '${directory}' writable?)`,
    EPERM: `operation not permitted in '${directory}'`,
    EISDIR: `'${path}' is a directory`,
    EROFS: `'${directory}' is on a read-only file system`,
    ENOSPC: 'no space left on the device',
  };
  const code = codeOf(cause);
  const reason =
    (code && reasons[code]) ?? (cause instanceof Error ? cause.message : String(cause));
  return new Error(`csvLogger: cannot ${action} '${path}': ${reason}`, { cause });
}
