import type { ImagePixels } from './image-pixels.js';

/** A BMP's header fields that decoding needs. */
export interface BmpHeader {
  readonly view: DataView;
  readonly offset: number;
  readonly headerSize: number;
  readonly width: number;
  readonly height: number;
  readonly topDown: boolean;
  readonly bpp: number;
  readonly compression: number;
  readonly colours: number;
}

/**
 * Reads a BMP's header: its size, read before any pixel is decoded.
 *
 * ## Example
 * ```ts
 * import { bmpHeader } from '@rxfit/image-folder';
 * const { width, height } = bmpHeader(bytes);
 * ```
 * @param buf - the file's bytes (the first 54 are enough)
 * @returns the header
 * @throws Error for a file that is not a BMP or a malformed header
 */
export function bmpHeader(buf: Uint8Array): BmpHeader {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw new Error('not a BMP file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const offset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = 0;
  let colours = 0;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    rawHeight = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
  } else {
    if (buf.length < 14 + 40) throw new Error('truncated BMP header');
    width = view.getInt32(18, true);
    rawHeight = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colours = view.getUint32(46, true);
  }
  const height = Math.abs(rawHeight);
  if (width < 1 || height < 1) throw new Error('malformed BMP header');
  return { view, offset, headerSize, width, height, topDown: rawHeight < 0, bpp, compression, colours };
}

/**
 * Decodes a Windows BMP, which the prebuilt sharp cannot read although Keras lists `.bmp`:
 * uncompressed 1/4/8-bit palette, 16/24/32-bit, and `BI_BITFIELDS` masks; bottom-up or top-down.
 * Like Pillow, 32-bit `BI_RGB` images are RGB (the fourth byte is ignored) and a bit-field image
 * with an alpha mask is RGBA. RLE-compressed BMPs are rejected.
 *
 * ## Example
 * ```ts
 * import { decodeBmp } from '@rxfit/image-folder/pipeline';
 * import { readFileSync } from 'node:fs';
 * const img = decodeBmp(readFileSync('photo.bmp'));
 * ```
 *
 * @param buf - the file's bytes
 * @param maxPixels - reject larger images before allocating (decompression bombs)
 * @returns uint8 pixels (3 or 4 channels)
 * @throws Error for malformed, truncated or RLE-compressed files
 */
export function decodeBmp(buf: Uint8Array, maxPixels = Infinity): ImagePixels<Uint8Array> {
  const { view, offset, headerSize, width, height, topDown, bpp, compression, colours } = bmpHeader(buf);
  if (width * height > maxPixels) throw new Error('Input image exceeds pixel limit');
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new Error(`unsupported BMP compression ${compression}`);
  }
  let masks: [number, number, number, number] | null = null;
  if (compression === 3 || compression === 6) {
    const at = 14 + 40; // right after a 40-byte header, or inside a V4/V5 header
    if (buf.length < at + 12) throw new Error('truncated BMP header');
    masks = [
      view.getUint32(at, true),
      view.getUint32(at + 4, true),
      view.getUint32(at + 8, true),
      headerSize >= 56 || compression === 6 ? view.getUint32(at + 12, true) : 0,
    ];
  } else if (bpp === 16) {
    masks = [0x7c00, 0x03e0, 0x001f, 0];
  }
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const n = colours || 1 << bpp;
    const entry = headerSize === 12 ? 3 : 4;
    const start = 14 + headerSize;
    if (start + n * entry > buf.length) throw new Error('truncated BMP palette');
    palette = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      palette[i * 3] = buf[start + i * entry + 2]!;
      palette[i * 3 + 1] = buf[start + i * entry + 1]!;
      palette[i * 3 + 2] = buf[start + i * entry]!;
    }
  } else if (bpp !== 16 && bpp !== 24 && bpp !== 32) {
    throw new Error(`unsupported BMP bit depth ${bpp}`);
  }
  const alpha = masks !== null && masks[3] !== 0;
  const channels = alpha ? 4 : 3;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (offset + stride * height > buf.length) throw new Error('truncated BMP data');
  const out = new Uint8Array(width * height * channels);
  const field = (v: number, mask: number): number => {
    if (mask === 0) return 0;
    const tz = 31 - Math.clz32(mask & -mask);
    const bits = 32 - Math.clz32(mask >>> tz);
    const max = 2 ** bits - 1;
    const x = ((v & mask) >>> tz) >>> 0;
    return bits === 8 ? x : Math.round((x * 255) / max);
  };
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (palette) {
        const bit = x * bpp;
        const byte = buf[row + (bit >> 3)]!;
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        if (idx * 3 + 2 >= palette.length) throw new Error('BMP palette index out of range');
        out[o] = palette[idx * 3]!;
        out[o + 1] = palette[idx * 3 + 1]!;
        out[o + 2] = palette[idx * 3 + 2]!;
      } else if (masks) {
        const v =
          bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
        out[o] = field(v, masks[0]);
        out[o + 1] = field(v, masks[1]);
        out[o + 2] = field(v, masks[2]);
        if (alpha) out[o + 3] = field(v, masks[3]);
      } else {
        const p = row + x * (bpp / 8);
        out[o] = buf[p + 2]!;
        out[o + 1] = buf[p + 1]!;
        out[o + 2] = buf[p]!;
      }
    }
  }
  return { data: out, height, width, channels };
}
