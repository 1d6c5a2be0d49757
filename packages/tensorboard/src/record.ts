import CRC32C from 'crc-32/crc32c.js';

/** TFRecord's CRC mask (`tensorflow/core/lib/hash/crc32c.h`): a CRC of data that holds CRCs stays well-mixed. */
const MASK_DELTA = 0xa282ead8;

/**
 * The masked CRC-32C that TFRecord stores after the length and after the data.
 *
 * ## Example
 * ```ts
 * import { maskedCrc32c } from '@rxfit/tensorboard';
 * maskedCrc32c(new Uint8Array([1, 2, 3]));
 * ```
 * @param bytes - The bytes to checksum.
 * @returns The masked CRC as an unsigned 32-bit integer.
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/**
 * Frames one record as TFRecord does: the data's length (uint64, little-endian), the length's
 * masked CRC-32C, the data, the data's masked CRC-32C.
 *
 * ## Example
 * ```ts
 * import { frameRecord } from '@rxfit/tensorboard';
 * const record = frameRecord(new TextEncoder().encode('hello')); // 5 + 16 bytes
 * ```
 * @param data - The record's payload (a serialized `Event`).
 * @returns The framed bytes, ready to append to an event file.
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(data.length + 16);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}

/** The records of a TFRecord file, and whether it ended in the middle of one. */
export interface ReadRecords {
  readonly records: Uint8Array[];
  /** Bytes after the last whole record: a record being written (the file is read while it grows). */
  readonly pendingBytes: number;
}

/**
 * Splits TFRecord bytes into records, checking both CRCs of each. An incomplete record at the
 * end is not an error (TensorBoard reads files while they are written): it is counted in
 * `pendingBytes`. A CRC mismatch in a whole record is.
 *
 * ## Example
 * ```ts
 * import { readRecords } from '@rxfit/tensorboard';
 * const { records } = readRecords(await readFile('logs/train/events.out.tfevents.1.host.1.0.v2'));
 * ```
 * @param bytes - The file's content.
 * @returns The payloads of the whole records.
 * @throws Error naming the offset when a CRC does not match.
 */
export function readRecords(bytes: Uint8Array): ReadRecords {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset + 12 <= bytes.length) {
    const length = view.getBigUint64(offset, true);
    if (view.getUint32(offset + 8, true) !== maskedCrc32c(bytes.subarray(offset, offset + 8))) {
      throw new Error(`TFRecord: the length CRC of the record at byte ${offset} does not match`);
    }
    const end = offset + 12 + Number(length) + 4;
    if (end > bytes.length) break;
    const data = bytes.subarray(offset + 12, end - 4);
    if (view.getUint32(end - 4, true) !== maskedCrc32c(data)) {
      throw new Error(`TFRecord: the data CRC of the record at byte ${offset} does not match`);
    }
    records.push(data);
    offset = end;
  }
  return { records, pendingBytes: bytes.length - offset };
}
