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
 * import { writeFileAtomic } from '@rxfit/core';
 * await writeFileAtomic('runs/x/best.json', JSON.stringify({ val_acc: 0.97 }));
 * ```
 * @param path - The file to replace; its folder must exist.
 * @param data - The new content.
 * @throws the file system's error (the temporary file is removed first).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
