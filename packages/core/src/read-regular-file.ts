import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { describeStats } from './file-target.js';

/** Options of {@link readRegularFile}. */
export interface ReadRegularFileOptions {
  /** Refuse a file larger than this many bytes, before reading it. @default no limit */
  readonly maxBytes?: number;
  /**
   * Follow a symbolic link at `path` (to a regular file). `false` refuses the link: use it for
   * paths read from a file (a manifest entry), which must not lead outside their folder.
   * @default true
   */
  readonly followLinks?: boolean;
}

/** The error {@link readRegularFile} throws for something that is not a plain, plausible file. */
export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer, so the
// fstat below can refuse it. It changes nothing for regular files.
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Reads a whole file that must be a regular file: a FIFO, a device (`/dev/zero`), a socket or a
 * folder is refused before anything is read, so a reader never hangs or fills memory on a special
 * file; a file larger than `maxBytes` is refused from its size. Exactly the size found when
 * opening is read, so a file that grows meanwhile cannot grow the buffer.
 *
 * ## Example
 * ```ts
 * import { readRegularFile } from '@rxfit/core/operator-kit';
 * const bytes = await readRegularFile('checkpoints/best/weights.bin', { maxBytes: 1 << 20, followLinks: false });
 * ```
 * @param path - The file.
 * @param options - See {@link ReadRegularFileOptions}.
 * @returns The file's bytes.
 * @throws NotRegularFileError naming the path when it is not a regular file, is a link with
 *   `followLinks: false`, or is larger than `maxBytes`; the file system's error otherwise.
 */
export async function readRegularFile(path: string, options: ReadRegularFileOptions = {}): Promise<Buffer<ArrayBuffer>> {
  const { maxBytes = Infinity, followLinks = true } = options;
  let handle;
  try {
    handle = await open(path, openFlags(followLinks));
  } catch (error) {
    throw linkError(path, followLinks, error);
  }
  try {
    const stats: Stats = await handle.stat();
    checkStats(path, stats, maxBytes);
    const buffer = Buffer.alloc(stats.size);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === buffer.length ? buffer : buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

/**
 * {@link readRegularFile}, synchronous: for a check an operator makes on the event itself.
 *
 * ## Example
 * ```ts
 * import { readRegularFileSync } from '@rxfit/core/operator-kit';
 * const text = readRegularFileSync('runs/x/backup/backup.json', { followLinks: false }).toString('utf8');
 * ```
 * @param path - The file.
 * @param options - See {@link ReadRegularFileOptions}.
 * @returns The file's bytes.
 * @throws as {@link readRegularFile}.
 */
export function readRegularFileSync(path: string, options: ReadRegularFileOptions = {}): Buffer<ArrayBuffer> {
  const { maxBytes = Infinity, followLinks = true } = options;
  let fd: number;
  try {
    fd = openSync(path, openFlags(followLinks));
  } catch (error) {
    throw linkError(path, followLinks, error);
  }
  try {
    const stats = fstatSync(fd);
    checkStats(path, stats, maxBytes);
    const buffer = Buffer.alloc(stats.size);
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return offset === buffer.length ? buffer : buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

function openFlags(followLinks: boolean): number {
  return constants.O_RDONLY | NONBLOCK | (followLinks ? 0 : NOFOLLOW);
}

/** ELOOP from a no-follow open is a link: say so. */
function linkError(path: string, followLinks: boolean, error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code === 'ELOOP' && !followLinks) {
    return new NotRegularFileError(`${path} is a symbolic link; links are not followed here`, { cause: error });
  }
  return error;
}

function checkStats(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new NotRegularFileError(`${path} is not a regular file (${describeStats(stats)})`);
  if (stats.size > maxBytes) {
    throw new NotRegularFileError(`${path} has ${stats.size} bytes, more than the ${maxBytes} expected`);
  }
}

/**
 * Checks a file name read from a file (a weights manifest's path, a backup's weights file): it
 * must name a file directly in the folder that holds the manifest, so that reading it never
 * leaves that folder. No separator, no `.` or `..`, not absolute, not empty.
 *
 * ## Example
 * ```ts
 * import { checkEntryName } from '@rxfit/core/operator-kit';
 * checkEntryName('weights.bin'); // ok
 * checkEntryName('../../secret.bin'); // throws
 * ```
 * @param entry - The name as read from the file.
 * @throws TypeError saying why the name is refused (the caller adds the file and the entry).
 */
export function checkEntryName(entry: unknown): asserts entry is string {
  if (typeof entry !== 'string' || entry === '') {
    throw new TypeError(`expected a file name, got ${JSON.stringify(entry)}`);
  }
  if (entry === '.' || entry === '..' || /[/\\]/.test(entry) || entry.includes('\0')) {
    throw new TypeError(
      `${JSON.stringify(entry)} is not a plain file name: files are read only from the manifest's own folder`,
    );
  }
}
