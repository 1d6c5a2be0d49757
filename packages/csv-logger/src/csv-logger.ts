import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, decisionFold, type RunControl, type TrainingEvent } from '@rxfit/core';
import { checkOptions, effectQueue } from '@rxfit/core/operator-kit';
import {
  endLine,
  nodeFileSystem,
  readHeader,
  reconcile,
  withoutTornLine,
  type CsvFileSystem,
} from './csv-file.js';
import { formatRow, ROW_END, rowCells, type CsvDialect } from './format.js';
import { csvLoggerDecider, type CsvLoggerCommand } from './decider.js';

const BY = 'csvLogger';

/** Options of {@link csvLogger}; the defaults are Keras'. */
export interface CsvLoggerOptions {
  /** One character between fields (not a quote or a line break). @default ',' */
  readonly separator?: string;
  /**
   * Keep the rows already in the file and add new ones; the header is written only when the
   * file is missing or empty, and an existing header's column order is kept. `false` empties
   * the file when the run begins. @default false
   */
  readonly append?: boolean;
  /** The file system port (reading, whole-file atomic writes). @default the node file system */
  readonly fileSystem?: CsvFileSystem;
}

/**
 * Keras' `CSVLogger`: writes one row per epoch (`epoch`, then the first epoch's log keys sorted,
 * as Python's `csv` module writes them) to `filename`. Every row is on disk when its epoch ends:
 * the whole file is written to a temporary file, fsynced and renamed over the old one, so a crash
 * never leaves a half row. Replayed events write nothing; when a resumed run continues the
 * replayed one, the file is brought to exactly the replayed rows and the new rows follow them.
 *
 * ## Example
 * ```ts
 * import { csvLogger } from '@rxfit/csv-logger';
 * await lastValueFrom(fit(model, data, { epochs: 10, validationSplit: 0.2 }).pipe(csvLogger('training.csv')));
 * // epoch,loss,lr,val_loss
 * // 0,0.6931471824645996,0.001,0.6920000314712524
 * ```
 * @param filename - The CSV file; its folder is created when the run begins.
 * @param options - See {@link CsvLoggerOptions}.
 * @returns An operator that passes every event through unchanged; a file error fails the run
 *   with a message naming the file (at the run's start when its folder cannot be created or
 *   written, or the path is a link or not a regular file).
 * @throws TypeError/RangeError naming the option and value for a bad `filename` or option.
 */
export function csvLogger(
  filename: string,
  options: CsvLoggerOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  checkOptions('csvLogger', options, ['separator', 'append', 'fileSystem']);
  const { separator = ',', append = false, fileSystem = nodeFileSystem } = options;
  if (typeof filename !== 'string' || filename === '') {
    throw new TypeError(
      `${BY}: filename must be a non-empty path, got ${JSON.stringify(filename)}`,
    );
  }
  if (typeof separator !== 'string' || separator.length !== 1 || '"\r\n'.includes(separator)) {
    throw new RangeError(
      `${BY}: separator must be one character other than a quote or a line break, got ${JSON.stringify(separator)}`,
    );
  }
  if (typeof append !== 'boolean')
    throw new TypeError(`${BY}: append must be a boolean, got ${String(append)}`);
  const ports = ['readText', 'writeAtomically', 'appendText', 'checkWritable'] as const;
  if (
    typeof fileSystem !== 'object' ||
    ports.some((port) => typeof fileSystem[port] !== 'function')
  ) {
    throw new TypeError(`${BY}: fileSystem must implement ${ports.join(', ')}`);
  }
  const dialect: CsvDialect = { separator };
  const path = filename;
  const fs = fileSystem;

  return (source) =>
    defer(() => {
      const fold = decisionFold(csvLoggerDecider);
      // Writes in epoch order, each awaited by the loop, a failure naming csvLogger.
      const effects = effectQueue(BY);
      // What the next row needs to know of the file: its header, and whether its last line lacks
      // its end (a file not written by rxfit). The file's text itself is not kept.
      let file: { columns: readonly string[] | undefined; lineOpen: boolean } | undefined;
      // A new run's first row replaces the file; until then the earlier run's file is untouched.
      let replace = false;
      let warned = new Set<string>();

      const open = async (
        decision: Extract<CsvLoggerCommand, { type: 'open' }>,
        control: RunControl,
      ): Promise<void> => {
        warned = new Set();
        // Before the first batch: the folder exists (created) and nothing is in the way.
        await fs.checkWritable(path);
        if (!decision.resume && !append) {
          // Keras opens the file with mode 'w' when the run begins. rxfit waits for the first row
          // and then replaces the file, so a run that fails before any epoch ends (a typo'd
          // monitor, a folder in the way) leaves the earlier run's log as it was.
          replace = true;
          file = { columns: undefined, lineOpen: false };
          return;
        }
        replace = false;
        const existing = (await fs.readText(path)) ?? '';
        // Cutting a torn row never touches the header line: one parse serves both.
        const header = await readHeader(existing, dialect);
        const read = withoutTornLine(existing, header, dialect);
        let next = read.text;
        let columns = header;
        if (decision.resume && decision.rows.length === 0) {
          // A resume with no finished epoch: the interrupted run had emptied the file unless appending.
          if (!append) [next, columns] = ['', undefined];
        } else if (decision.resume) {
          columns = header ?? ['epoch', ...(decision.keys ?? [])];
          const base = header ? read.text : endLine(read.text) + (await formatRow(columns, dialect));
          next = await reconcile({ text: base, columns }, decision.rows, columns, dialect);
        }
        // One atomic rewrite at most: the torn line cut, the replayed rows reconciled.
        if (next !== existing) await fs.writeAtomically(path, next);
        if (read.torn !== undefined) {
          control.warn(
            `${BY}: cut a torn last line from '${path}' (${read.torn.length} characters without a line end, from a crash during a write)`,
            { by: BY },
          );
        }
        file = { columns, lineOpen: endLine(next) !== next };
      };

      const write = async (
        decision: Extract<CsvLoggerCommand, { type: 'write' }>,
        control: RunControl,
      ): Promise<void> => {
        if (!file) await open({ type: 'open', resume: false, rows: [], keys: undefined }, control);
        let { columns } = file ?? { columns: undefined };
        // What this epoch adds to the file: the end of an open last line, the header, the row.
        let chunk = file?.lineOpen ? ROW_END : '';
        if (!columns) {
          columns = ['epoch', ...decision.keys];
          chunk += await formatRow(columns, dialect);
        }
        const known = columns;
        const dropped = Object.keys(decision.row.logs).filter(
          (key) => !known.includes(key) && !warned.has(key),
        );
        if (dropped.length > 0) {
          for (const key of dropped) warned.add(key);
          control.warn(
            `${BY}: ${dropped.map((k) => `'${k}'`).join(', ')} ${dropped.length === 1 ? 'is' : 'are'} not a column of '${path}' (${known.join(separator)}); not written`,
            { by: BY },
          );
        }
        chunk += await formatRow(rowCells(columns, decision.row.epoch, decision.row.logs), dialect);
        if (replace) {
          await fs.writeAtomically(path, chunk);
          replace = false;
        } else {
          // One append (and fsync) per epoch: the rows written before are never rewritten.
          await fs.appendText(path, chunk);
        }
        file = { columns, lineOpen: false };
      };

      return source.pipe(
        tap((event) => {
          const commands = fold.next(event);
          const control = controlOf(event, 'csvLogger');
          if (!control) return;
          for (const command of commands) {
            effects.run(control, () =>
              command.type === 'open' ? open(command, control) : write(command, control),
            );
          }
        }),
      );
    });
}
