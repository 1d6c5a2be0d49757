/**
 * A parsed format spec, Python's mini-language:
 * `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
 */
export interface FormatSpec {
  readonly fill: string | undefined;
  readonly align: '<' | '>' | '=' | '^' | undefined;
  readonly sign: '+' | '-' | ' ' | undefined;
  readonly alternate: boolean;
  readonly zero: boolean;
  readonly width: number | undefined;
  readonly grouping: ',' | '_' | undefined;
  readonly precision: number | undefined;
  readonly type: string | undefined;
}

/** One replacement field of a template: `{key!conversion:spec}`. */
export interface TemplateField {
  readonly key: string;
  readonly conversion: 'r' | 's' | 'a' | undefined;
  readonly spec: FormatSpec;
  /** The field as written, braces included, for error messages. */
  readonly text: string;
}

/** A template split into literal text and replacement fields. */
export type TemplatePart = string | TemplateField;

/** Options of {@link pythonFormat}. */
export interface PythonFormatOptions {
  /**
   * Keys whose values are Python `int`s (`epoch`, `batch`): `{epoch}` prints `3`, while a float
   * key prints Python's float repr (`{loss}` with 2 prints `2.0`). @default none
   */
  readonly ints?: ReadonlySet<string>;
}

/**
 * A template names a key that has no value: Python's `KeyError`. The message names the key and
 * the keys that were available.
 */
export class FormatKeyError extends Error {
  override readonly name = 'FormatKeyError';
  /** The missing key. */
  readonly key: string;
  /** The keys that had values. */
  readonly available: readonly string[];

  constructor(template: string, key: string, available: readonly string[]) {
    super(
      `cannot format "${template}": no value for '${key}' (KeyError). ` +
        `Available keys: ${available.length > 0 ? available.join(', ') : '(none)'}`,
    );
    this.key = key;
    this.available = available;
  }
}

const SPEC =
  /^(?:([\s\S])?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;

/**
 * Parses a Python `str.format` template: `{{`/`}}` escapes, named fields, `!r`/`!s`/`!a`
 * conversions and format specs. Positional (`{}`, `{0}`), attribute and index fields are not
 * supported, since checkpoint paths only name values.
 *
 * ## Example
 * ```ts
 * import { parseTemplate } from '@rxfit/checkpoint';
 * parseTemplate('ckpt-{epoch:02d}'); // ['ckpt-', { key: 'epoch', spec: { width: 2, zero: true, type: 'd', ... }, ... }]
 * ```
 * @param template - The template text.
 * @returns Its literal parts and fields, in order.
 * @throws SyntaxError for an unbalanced brace, an unsupported field or a malformed spec.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '}') {
      if (template[i + 1] !== '}')
        throw new SyntaxError(`"${template}": single '}' at position ${i} (write '}}')`);
      literal += '}';
      i++;
      continue;
    }
    if (c !== '{') {
      literal += c;
      continue;
    }
    if (template[i + 1] === '{') {
      literal += '{';
      i++;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end < 0)
      throw new SyntaxError(
        `"${template}": '{' at position ${i} is never closed (write '{{' for a brace)`,
      );
    const text = template.slice(i, end + 1);
    const body = text.slice(1, -1);
    if (body.includes('{'))
      throw new SyntaxError(`"${template}": nested fields such as ${text}} are not supported`);
    if (literal) parts.push(literal);
    literal = '';
    parts.push(parseField(template, text, body));
    i = end;
  }
  if (literal) parts.push(literal);
  return parts;
}

function parseField(template: string, text: string, body: string): TemplateField {
  const stop = body.search(/[!:]/);
  const key = stop < 0 ? body : body.slice(0, stop);
  let rest = stop < 0 ? '' : body.slice(stop);
  let conversion: TemplateField['conversion'];
  if (rest.startsWith('!')) {
    const c = rest[1];
    if (c !== 'r' && c !== 's' && c !== 'a') {
      throw new SyntaxError(`"${template}": unknown conversion in ${text} (allowed: !r, !s, !a)`);
    }
    conversion = c;
    rest = rest.slice(2);
    if (rest !== '' && !rest.startsWith(':'))
      throw new SyntaxError(`"${template}": expected ':' after !${c} in ${text}`);
  }
  if (key === '' || /^\d+$/.test(key)) {
    throw new SyntaxError(
      `"${template}": positional field ${text} is not supported; name a key, as {epoch} or {val_loss}`,
    );
  }
  if (/[.[\]]/.test(key)) {
    throw new SyntaxError(
      `"${template}": attribute or index access in ${text} is not supported; name a key`,
    );
  }
  const specText = rest.startsWith(':') ? rest.slice(1) : '';
  const m = SPEC.exec(specText);
  if (!m) throw new SyntaxError(`"${template}": invalid format spec '${specText}' in ${text}`);
  const spec: FormatSpec = {
    fill: m[1],
    align: m[2] as FormatSpec['align'],
    sign: m[3] as FormatSpec['sign'],
    alternate: m[5] !== undefined,
    zero: m[6] !== undefined,
    width: m[7] === undefined ? undefined : Number(m[7]),
    grouping: m[8] as FormatSpec['grouping'],
    precision: m[9] === undefined ? undefined : Number(m[9]),
    type: m[10],
  };
  return { key, conversion, spec, text };
}

/**
 * Formats a template as Python's `str.format(**values)` does, for the subset checkpoint paths use:
 * named fields with specs of type `d`, `f`/`F`, `e`/`E`, `g`/`G`, `%`, `b`/`o`/`x`/`X` or none,
 * with fill, alignment, sign, `#`, zero-padding, width, grouping and precision. Rounding is
 * Python's: the exact binary value, ties to even (`{x:.2f}` of 0.125 gives `0.12`).
 *
 * ## Example
 * ```ts
 * import { pythonFormat } from '@rxfit/checkpoint';
 * pythonFormat('ckpt-{epoch:02d}-{val_loss:.2f}', { epoch: 3, val_loss: 0.12345 }, { ints: new Set(['epoch']) });
 * // 'ckpt-03-0.12'
 * ```
 * @param template - The template (or its parts from {@link parseTemplate}).
 * @param values - The value of each key.
 * @param options - See {@link PythonFormatOptions}.
 * @returns The formatted text.
 * @throws FormatKeyError when a field names a key without a value; SyntaxError for a malformed
 *   template; TypeError when a spec does not fit the value (`d` for 0.5, precision on an int).
 */
export function pythonFormat(
  template: string | readonly TemplatePart[],
  values: Readonly<Record<string, number>>,
  options: PythonFormatOptions = {},
): string {
  const parts = typeof template === 'string' ? parseTemplate(template) : template;
  const source =
    typeof template === 'string'
      ? template
      : parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = Object.hasOwn(values, part.key) ? values[part.key] : undefined;
    if (value === undefined) throw new FormatKeyError(source, part.key, Object.keys(values));
    const isInt = options.ints?.has(part.key) ?? false;
    out += part.conversion
      ? formatString(isInt ? String(value) : floatRepr(value), part)
      : formatNumber(value, isInt, part);
  }
  return out;
}

function formatString(s: string, field: TemplateField): string {
  const { spec } = field;
  if (spec.type !== undefined && spec.type !== 's') {
    throw new TypeError(`${field.text}: format code '${spec.type}' does not apply to a string`);
  }
  if (spec.sign || spec.alternate || spec.grouping || spec.align === '=') {
    throw new TypeError(`${field.text}: sign, '#', grouping and '=' do not apply to a string`);
  }
  const text = spec.precision === undefined ? s : s.slice(0, spec.precision);
  return pad(text, '', spec, '<');
}

function formatNumber(x: number, isInt: boolean, field: TemplateField): string {
  const { spec } = field;
  const type = spec.type;
  if (type === 's' || type === 'c')
    throw new TypeError(`${field.text}: format code '${type}' does not apply to a number`);
  const intType = type === undefined ? isInt : 'dbnoxX'.includes(type);
  let body: string;
  let prefix = '';
  let negative: boolean;
  if (intType) {
    if (!Number.isInteger(x)) {
      throw new TypeError(
        `${field.text}: format code '${type ?? 'd'}' needs an integer, got ${floatRepr(x)} for '${field.key}'`,
      );
    }
    if (spec.precision !== undefined)
      throw new TypeError(`${field.text}: precision is not allowed for an integer`);
    negative = x < 0;
    const big = BigInt(Math.abs(x));
    const radix = type === 'b' ? 2 : type === 'o' ? 8 : type === 'x' || type === 'X' ? 16 : 10;
    body = big.toString(radix);
    if (type === 'X') body = body.toUpperCase();
    if (spec.alternate && radix !== 10)
      prefix = radix === 2 ? '0b' : radix === 8 ? '0o' : type === 'X' ? '0X' : '0x';
    body = groupPadded(
      body,
      '',
      spec,
      radix === 10 ? 3 : 4,
      prefix.length + (x < 0 || spec.sign === '+' || spec.sign === ' ' ? 1 : 0),
    );
  } else {
    negative = x < 0 || Object.is(x, -0);
    body = formatFloat(Math.abs(x), type, spec);
    if (Number.isFinite(x)) {
      const dot = body.search(/[.eE%]/);
      const intPart = dot < 0 ? body : body.slice(0, dot);
      const signLength =
        x < 0 || Object.is(x, -0) || spec.sign === '+' || spec.sign === ' ' ? 1 : 0;
      body = groupPadded(intPart, dot < 0 ? '' : body.slice(dot), spec, 3, signLength);
    }
    if (Number.isNaN(x)) negative = false;
  }
  const sign = negative ? '-' : spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '';
  return pad(prefix + body, sign, spec, '>');
}

function pad(body: string, sign: string, spec: FormatSpec, defaultAlign: '<' | '>'): string {
  const fill = spec.fill ?? (spec.zero ? '0' : ' ');
  const align = spec.align ?? (spec.zero ? '=' : defaultAlign);
  const length = sign.length + body.length;
  const missing = Math.max(0, (spec.width ?? 0) - length);
  const filler = fill.repeat(missing);
  switch (align) {
    case '<':
      return sign + body + filler;
    case '^': {
      const left = Math.floor(missing / 2);
      return fill.repeat(left) + sign + body + fill.repeat(missing - left);
    }
    case '=': {
      // Sign-aware padding: the fill goes between the sign (and 0x prefix) and the digits.
      const prefix = /^0[bBoOxX]/.test(body) ? body.slice(0, 2) : '';
      return sign + prefix + filler + body.slice(prefix.length);
    }
    default:
      return filler + sign + body;
  }
}

/**
 * Groups the integer digits; with zero-padding ('0' fill, '=' alignment) Python pads the digits
 * before grouping, so the padding gets separators too (`{:08,}` of 1234 is `0,001,234`).
 */
function groupPadded(
  int: string,
  rest: string,
  spec: FormatSpec,
  size: number,
  extra: number,
): string {
  let digits = int;
  const zeroPadded =
    (spec.fill ?? (spec.zero ? '0' : ' ')) === '0' &&
    (spec.align ?? (spec.zero ? '=' : '>')) === '=';
  if (spec.grouping && zeroPadded && spec.width !== undefined) {
    while (extra + group(digits, spec.grouping, size).length + rest.length < spec.width)
      digits = '0' + digits;
  }
  return group(digits, spec.grouping, size) + rest;
}

function group(digits: string, separator: FormatSpec['grouping'], size: number): string {
  if (!separator) return digits;
  let out = '';
  for (let i = digits.length; i > 0; i -= size) {
    out = digits.slice(Math.max(0, i - size), i) + (out ? separator + out : '');
  }
  return out;
}

/** `x` ≥ 0 (or NaN) formatted without its sign. */
function formatFloat(x: number, type: string | undefined, spec: FormatSpec): string {
  const upper = type === 'F' || type === 'E' || type === 'G';
  if (!Number.isFinite(x)) {
    const text = Number.isNaN(x) ? 'nan' : 'inf';
    return (upper ? text.toUpperCase() : text) + (type === '%' ? '%' : '');
  }
  const alt = spec.alternate;
  switch (type) {
    case 'f':
    case 'F':
      return fixed(x, spec.precision ?? 6, alt);
    case '%':
      return fixed(x * 100, spec.precision ?? 6, alt) + '%';
    case 'e':
    case 'E': {
      const s = scientific(x, spec.precision ?? 6, alt);
      return upper ? s.toUpperCase() : s;
    }
    case 'g':
    case 'G':
    case 'n': {
      const s = general(x, spec.precision ?? 6, alt, false);
      return upper ? s.toUpperCase() : s;
    }
    default:
      return spec.precision === undefined ? floatRepr(x) : general(x, spec.precision, alt, true);
  }
}

/** The exact decimal expansion of a finite `x` ≥ 0: integer digits and fraction digits. */
function exactDecimal(x: number): { int: string; frac: string } {
  if (x >= 1e21) return { int: BigInt(x).toString(), frac: '' };
  // toFixed(100) prints the exact binary value (every double ≥ 2^-47 has < 100 fraction digits).
  const [int = '0', frac = ''] = x.toFixed(100).split('.');
  return { int, frac: frac.replace(/0+$/, '') };
}

/** Rounds a digit string to its first `keep` digits, ties to even; returns the digits and the carry. */
function roundDigits(digits: string, keep: number): { digits: string; carry: boolean } {
  if (keep >= digits.length) return { digits: digits.padEnd(keep, '0'), carry: false };
  const kept = digits.slice(0, keep);
  const first = digits[keep]!;
  const tail = digits.slice(keep + 1);
  const lastOdd = keep > 0 && Number(kept[keep - 1]) % 2 === 1;
  const up = first > '5' || (first === '5' && (/[1-9]/.test(tail) || lastOdd));
  if (!up) return { digits: kept, carry: false };
  const arr = kept.split('');
  let i = arr.length - 1;
  for (; i >= 0; i--) {
    if (arr[i] === '9') arr[i] = '0';
    else {
      arr[i] = String(Number(arr[i]) + 1);
      break;
    }
  }
  return i < 0
    ? { digits: '1' + arr.join(''), carry: true }
    : { digits: arr.join(''), carry: false };
}

function fixed(x: number, precision: number, alt: boolean): string {
  const { int, frac } = exactDecimal(x);
  const rounded = roundDigits(int + frac, int.length + precision).digits;
  const intLength = rounded.length - precision;
  const intPart = rounded.slice(0, intLength).replace(/^0+(?=\d)/, '') || '0';
  const fracPart = rounded.slice(intLength);
  return precision > 0 ? `${intPart}.${fracPart}` : alt ? `${intPart}.` : intPart;
}

/** Significant digits of `x` rounded to `count`, and the decimal exponent of the first one. */
function significant(x: number, count: number): { digits: string; exponent: number } {
  if (x === 0) return { digits: '0'.repeat(count), exponent: 0 };
  const { int, frac } = exactDecimal(x);
  const all = int + frac;
  const first = all.search(/[1-9]/);
  let exponent = int.length - 1 - first;
  const { digits, carry } = roundDigits(all.slice(first), count);
  if (carry) exponent++;
  return { digits: digits.slice(0, count), exponent };
}

function exponentText(exponent: number): string {
  return `e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function scientific(x: number, precision: number, alt: boolean): string {
  const { digits, exponent } = significant(x, precision + 1);
  const mantissa = precision > 0 || alt ? `${digits[0]}.${digits.slice(1)}` : digits;
  return mantissa + exponentText(exponent);
}

/** Python's `g` (and, with `noType`, the float format without a type but with a precision). */
function general(x: number, precision: number, alt: boolean, noType: boolean): string {
  const p = precision === 0 ? 1 : precision;
  const { exponent } = significant(x, p);
  const useFixed = exponent >= -4 && exponent < (noType ? p - 1 : p);
  let s = useFixed ? fixed(x, p - 1 - exponent, alt) : scientific(x, p - 1, alt);
  if (!alt) {
    const e = s.indexOf('e');
    const mantissa = e < 0 ? s : s.slice(0, e);
    const trimmed = mantissa.includes('.')
      ? mantissa.replace(/0+$/, '').replace(/\.$/, '')
      : mantissa;
    s = trimmed + (e < 0 ? '' : s.slice(e));
  }
  if (noType && useFixed && !s.includes('.')) s += '.0';
  return s;
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip, in fixed notation for exponents
 * in [-4, 16) (`1.0`, `0.0001`) and scientific otherwise (`1e-05`, `1e+16`).
 */
function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mantissa = '0', exp = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16) {
    return (
      sign +
      digits.slice(0, 1) +
      (digits.length > 1 ? `.${digits.slice(1)}` : '') +
      exponentText(exponent)
    );
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const int = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const frac = digits.slice(exponent + 1);
  return `${sign}${int}.${frac || '0'}`;
}
