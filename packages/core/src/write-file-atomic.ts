import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file so that a crash at any moment leaves either the old or the new content, never
 * a mix: the data goes to a temporary file in the same folder (so `rename` stays on one file
 * system), is flushed to disk, renamed over the target, and the folder is flushed so the rename
 * itself survives a power loss. Every rxfit sink that writes files (CSV rows, plots, backups)
 * writes through this.
 *
 * ## Example
 * ```ts
 * import { writeFileAtomic } from '@rxfit/core/operator-kit';
 * await writeFileAtomic('runs/x/best.json', JSON.stringify({ val_acc: 0.97 }));
 * ```
 * @param path - The file to replace; its folder must exist.
 * @param data - The new content.
 * @throws the file system's error (the temporary file is removed first).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // (isAtomicTemporary below recognises this name.)
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(dirname(path));
}

/** Flushes a folder's entries (renames) to disk; some file systems refuse it, which is harmless. */
export async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the rename itself already happened.
  }
}

/**
 * Whether `name` is a temporary file {@link writeFileAtomic} makes for a file named `base` (or for
 * any file matching `base` when it is a RegExp): a crash can leave one behind, and the operator
 * that owns `base` may remove it.
 *
 * ## Example
 * ```ts
 * import { isAtomicTemporary } from '@rxfit/core/operator-kit';
 * isAtomicTemporary('.backup.json.4242.0a1b2c3d.tmp', 'backup.json'); // true
 * ```
 * @param name - An entry of the folder.
 * @param base - The file name written atomically, or a pattern of such names.
 * @returns True for a temporary file of `base`.
 */
export function isAtomicTemporary(name: string, base: string | RegExp): boolean {
  const match = /^\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(name);
  if (!match) return false;
  return typeof base === 'string' ? match[1] === base : base.test(match[1]!);
}
