import { writeToString } from 'fast-csv';
import type { Logs } from '@rxfit/core';

/** The CSV dialect Keras' CSVLogger writes: Python's `csv.excel`, with a chosen delimiter. */
export interface CsvDialect {
  /** One character between fields. */
  readonly separator: string;
}

/** What Python's `csv.excel` dialect ends every row with, on every platform. */
export const ROW_END = '\r\n';

/**
 * A number as Python's `str(float)` writes it, which is what Keras' CSVLogger puts in a cell:
 * the shortest round-trip digits, `1.0` for whole numbers, exponents from `1e-05` below 1e-4
 * and from `1e+16` up, and `nan`, `inf`, `-inf` for non-finite values.
 *
 * ## Example
 * ```ts
 * import { pythonFloat } from '@rxfit/csv-logger';
 * pythonFloat(1); // '1.0'
 * pythonFloat(0.00001); // '1e-05'
 * pythonFloat(NaN); // 'nan'
 * ```
 * @param x - Any number.
 * @returns Python's `repr(float(x))`.
 */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the same shortest round-trip digits as Python's repr.
  const [mantissa = '', exponent = '0'] = x.toExponential().split('e');
  const exp = Number(exponent);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (exp >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exp - digits.length + 1)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * The cell of one log value: Python's float text for numbers, `NA` for a missing key (Keras'
 * `logs.get(key, "NA")`). A `null` (a NaN or infinity that went through JSON) is also `NA`:
 * which of them it was is lost.
 */
function formatCell(value: unknown): string {
  if (typeof value === 'number') return pythonFloat(value);
  if (typeof value === 'string') return value;
  return 'NA';
}

/**
 * The cells of one row: `epoch` as an integer, then each column's value.
 *
 * ## Example
 * ```ts
 * import { rowCells } from '@rxfit/csv-logger';
 * rowCells(['epoch', 'loss', 'val_loss'], 3, { loss: 0.5 }); // ['3', '0.5', 'NA']
 * ```
 * @param columns - The header, `epoch` included.
 * @param epoch - The 0-based epoch.
 * @param logs - The epoch's logs.
 * @returns One string per column.
 */
export function rowCells(columns: readonly string[], epoch: number, logs: Logs): string[] {
  // hasOwn: a column named `constructor` missing from these logs is NA, not Object's constructor.
  return columns.map((column) =>
    column === 'epoch' ? String(epoch) : formatCell(Object.hasOwn(logs, column) ? logs[column] : undefined),
  );
}

/**
 * Formats one row as CSV text with fast-csv, ended by `\r\n`, quoting as Python's `csv.excel`
 * does: a field that holds the separator, a quote or a line break is quoted, quotes doubled.
 *
 * fast-csv decides by itself with a regular expression built from the separator, which misses
 * fields for separators special inside `[...]` (`]`, `\\`); the rule is therefore also passed as
 * `quoteColumns`. With `^` fast-csv quotes every field: still valid CSV that reads back the same.
 *
 * ## Example
 * ```ts
 * import { formatRow } from '@rxfit/csv-logger';
 * await formatRow(['epoch', 'a,b'], { separator: ',' }); // 'epoch,"a,b"\r\n'
 * ```
 * @param cells - The row's fields.
 * @param dialect - The separator.
 * @returns The row's text with its line end.
 */
export async function formatRow(cells: readonly string[], dialect: CsvDialect): Promise<string> {
  const quoteColumns = cells.map(
    (cell) =>
      cell.includes(dialect.separator) ||
      cell.includes('"') ||
      cell.includes('\r') ||
      cell.includes('\n'),
  );
  return writeToString([[...cells]], {
    delimiter: dialect.separator,
    rowDelimiter: ROW_END,
    includeEndRowDelimiter: true,
    quoteColumns,
  });
}

/**
 * Keras' header rule: the first epoch's log keys sorted, then any `val_*` key the run announced
 * that the first epoch lacks (Keras' `model.metrics_names` check), so later validation has a column.
 *
 * ## Example
 * ```ts
 * import { headerKeys } from '@rxfit/csv-logger';
 * headerKeys({ loss: 1, lr: 0.1, acc: 0.5 }, ['val_loss']); // ['acc', 'loss', 'lr', 'val_loss']
 * ```
 * @param logs - The first epoch's logs.
 * @param valKeys - The `val_*` keys announced by `trainBegin`.
 * @returns The header keys after `epoch`.
 */
export function headerKeys(logs: Logs, valKeys: readonly string[]): string[] {
  // Default sort compares UTF-16 code units, as Python's sorted() compares code points for these names.
  const keys = Object.keys(logs).sort();
  for (const key of valKeys) if (!keys.includes(key)) keys.push(key);
  return keys;
}
