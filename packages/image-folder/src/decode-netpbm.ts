import type { ImagePixels } from './image-pixels.js';

const isSpace = (c: number): boolean =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** Reads a decimal number after whitespace and `#` comments; returns it and the position after it. */
function readAsciiInt(buf: Uint8Array, from: number): [number, number] {
  let pos = from;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated Netpbm header');
    const c = buf[pos]!;
    if (c === 0x23) {
      while (pos < buf.length && buf[pos] !== 0x0a && buf[pos] !== 0x0d) pos++;
    } else if (isSpace(c)) pos++;
    else break;
  }
  let v = 0;
  let digits = 0;
  while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) {
    v = v * 10 + (buf[pos]! - 0x30);
    pos++;
    digits++;
  }
  if (digits === 0) throw new Error('malformed Netpbm header');
  return [v, pos];
}

/**
 * Reads a Netpbm header (`P1`–`P6`, width, height, maxval): the image's size, before any pixel is
 * decoded.
 *
 * ## Example
 * ```ts
 * import { netpbmHeader } from '@rxfit/image-folder';
 * netpbmHeader(Buffer.from('P2\n2 1\n255\n0 255\n')); // { kind: 2, width: 2, height: 1, maxval: 255, end: 10 }
 * ```
 * @param buf - the file's bytes
 * @returns the header, and where it ends
 * @throws Error for a file that is not Netpbm or a malformed header
 */
export function netpbmHeader(buf: Uint8Array): { kind: number; width: number; height: number; maxval: number; end: number } {
  if (buf.length < 2 || buf[0] !== 0x50 || buf[1]! < 0x31 || buf[1]! > 0x36)
    throw new Error('not a Netpbm file');
  const kind = buf[1]! - 0x30;
  const [width, afterWidth] = readAsciiInt(buf, 2);
  const [height, afterHeight] = readAsciiInt(buf, afterWidth);
  const bitmap = kind === 1 || kind === 4;
  const [maxval, end] = bitmap ? [1, afterHeight] : readAsciiInt(buf, afterHeight);
  if (width < 1 || height < 1 || maxval < 1 || maxval > 65535)
    throw new Error('malformed Netpbm header');
  return { kind, width, height, maxval, end };
}

/**
 * Decodes a Netpbm image (PBM/PGM/PPM: `P1`–`P6`), which the prebuilt sharp cannot read although
 * Keras lists `.ppm`. Grey maps give 1 channel, pixmaps 3; bitmaps give 0/255 grey. A `maxval`
 * other than 255 is scaled to 0–255 with rounding (16-bit samples included).
 *
 * ## Example
 * ```ts
 * import { decodeNetpbm } from '@rxfit/image-folder/pipeline';
 * const img = decodeNetpbm(Buffer.from('P2\n2 1\n255\n0 255\n'));
 * // img.data: Uint8Array [0, 255]
 * ```
 *
 * @param buf - the file's bytes
 * @param maxPixels - reject larger images before allocating (decompression bombs)
 * @returns uint8 pixels
 * @throws Error when the header or data is malformed or truncated
 */
export function decodeNetpbm(buf: Uint8Array, maxPixels = Infinity): ImagePixels<Uint8Array> {
  const { kind, width, height, maxval, end } = netpbmHeader(buf);
  let pos = end;
  const readInt = (): number => {
    const [value, next] = readAsciiInt(buf, pos);
    pos = next;
    return value;
  };
  if (width * height > maxPixels) throw new Error('Input image exceeds pixel limit');
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const count = width * height * channels;
  const out = new Uint8Array(count);
  const scale = (v: number): number => {
    if (v > maxval) throw new Error('Netpbm sample exceeds maxval');
    return maxval === 255 ? v : Math.round((v * 255) / maxval);
  };
  if (kind <= 3) {
    for (let i = 0; i < count; i++) {
      if (kind === 1) {
        while (pos < buf.length && (isSpace(buf[pos]!) || buf[pos] === 0x23)) {
          if (buf[pos] === 0x23) while (pos < buf.length && buf[pos] !== 0x0a) pos++;
          else pos++;
        }
        if (pos >= buf.length) throw new Error('truncated Netpbm data');
        out[i] = buf[pos++] === 0x31 ? 0 : 255;
      } else {
        out[i] = scale(readInt());
      }
    }
    return { data: out, height, width, channels };
  }
  pos++; // the single whitespace after the header
  if (kind === 4) {
    const rowBytes = Math.ceil(width / 8);
    if (pos + rowBytes * height > buf.length) throw new Error('truncated Netpbm data');
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (buf[pos + y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
        out[y * width + x] = bit ? 0 : 255;
      }
    }
    return { data: out, height, width, channels };
  }
  const bytes = maxval > 255 ? 2 : 1;
  if (pos + count * bytes > buf.length) throw new Error('truncated Netpbm data');
  for (let i = 0; i < count; i++) {
    const v = bytes === 2 ? (buf[pos + 2 * i]! << 8) | buf[pos + 2 * i + 1]! : buf[pos + i]!;
    out[i] = scale(v);
  }
  return { data: out, height, width, channels };
}
