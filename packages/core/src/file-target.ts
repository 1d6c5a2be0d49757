import { accessSync, constants, lstatSync, mkdirSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * What a file-writing operator writes at its target path: one `file` (a CSV, a log, a plot), or
 * a `folder` whose entries it replaces and removes (a checkpoint, a backup).
 */
export type FileTargetKind = 'file' | 'folder';

/** What is at a path, without following a final symbolic link. */
export type EntryKind = 'missing' | 'file' | 'folder' | 'link' | 'other';

/** Options of {@link checkFileTarget} and {@link prepareFileTarget}. */
export interface FileTargetOptions {
  /** What the operator writes there. */
  readonly kind: FileTargetKind;
  /**
   * `folder` only: the entries the operator writes there itself (its files and their temporary
   * files). Any other entry is foreign, and the folder is refused. @default every entry is foreign
   */
  readonly owns?: (name: string) => boolean;
}

/**
 * The one rule for every path rxfit writes (CSV logs, event logs, plots, checkpoints, backups):
 *
 * - a symbolic link is never followed nor replaced: rxfit would write outside the path it was
 *   given, or cut the link;
 * - a `file` target is missing or a regular file;
 * - a `folder` target is missing or a folder that holds only the operator's own entries, so that
 *   replacing or removing them deletes nothing rxfit did not write.
 *
 * Pure: give it what is at the path (and the folder's entries), get the error to fail the run with.
 *
 * ## Example
 * ```ts
 * import { checkFileTarget } from '@rxfit/core/operator-kit';
 * checkFileTarget('backupAndRestore', 'runs/x/backup', 'folder', ['notes.txt'], { kind: 'folder', owns: (n) => n === 'backup.json' });
 * // throws: backupAndRestore: runs/x/backup holds files rxfit did not write (notes.txt); ...
 * ```
 * @param owner - The operator, named in the error.
 * @param path - The target, named in the error.
 * @param found - What is at `path` (`lstat`, links not followed).
 * @param entries - A folder's entry names (for a `folder` target that exists).
 * @param options - See {@link FileTargetOptions}.
 * @throws Error naming the path and what is in the way.
 */
export function checkFileTarget(
  owner: string,
  path: string,
  found: EntryKind,
  entries: readonly string[],
  options: FileTargetOptions,
): void {
  if (found === 'missing') return;
  if (found === 'link') {
    throw new Error(
      `${owner}: ${path} is a symbolic link; rxfit does not write through links (nor replace them): give the real path`,
    );
  }
  if (options.kind === 'file') {
    if (found !== 'file') {
      throw new Error(`${owner}: ${path} exists and is not a regular file (${describeKind(found)}); give the path of a file`);
    }
    return;
  }
  if (found !== 'folder') {
    throw new Error(`${owner}: ${path} exists and is not a folder (${describeKind(found)}); give the path of a folder of its own`);
  }
  const owns = options.owns ?? (() => false);
  const foreign = entries.filter((name) => !owns(name));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
    throw new Error(
      `${owner}: ${path} holds files rxfit did not write (${shown}); give a folder of its own ` +
        '(for example a new subfolder), so that replacing or removing its files deletes nothing else',
    );
  }
}

/**
 * Checks, when a run begins, that an operator can write at `path`: creates the parent folder
 * (and its parents) or fails naming it, checks that the folder is writable, and applies
 * {@link checkFileTarget} to what is there. Synchronous, so an operator can run it on the
 * `trainBegin` event itself, before any file is opened and before the first batch.
 *
 * ## Example
 * ```ts
 * import { controlOf } from '@rxfit/core';
 * import { failRun, prepareFileTarget } from '@rxfit/core/operator-kit';
 * // in an operator, on a live trainBegin:
 * try { prepareFileTarget('myLogger', 'logs/run.txt', { kind: 'file' }); }
 * catch (error) { failRun(controlOf(event), error); }
 * ```
 * @param owner - The operator, named in errors.
 * @param path - The file or folder the operator writes.
 * @param options - See {@link FileTargetOptions}.
 * @returns The absolute path of the target.
 * @throws Error naming the folder that cannot be created or written, or the target in the way.
 */
export function prepareFileTarget(owner: string, path: string, options: FileTargetOptions): string {
  const target = resolve(path);
  const parent = dirname(target);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (error) {
    throw new Error(`${owner}: cannot create the folder ${parent} for ${path}: ${reasonOf(error)}`, { cause: error });
  }
  try {
    accessSync(parent, constants.W_OK);
  } catch (error) {
    throw new Error(`${owner}: cannot write in the folder ${parent} (for ${path}): ${reasonOf(error)}`, { cause: error });
  }
  const found = entryKind(target);
  const entries = found === 'folder' && options.kind === 'folder' ? readdirSync(target) : [];
  try {
    checkFileTarget(owner, path, found, entries, options);
  } catch (error) {
    if (found === 'link') {
      (error as Error).message += ` (${path} points to ${readlinkSync(target)})`;
    }
    throw error;
  }
  return target;
}

/**
 * What is at `path`, without following a final symbolic link.
 *
 * ## Example
 * ```ts
 * import { entryKind } from '@rxfit/core/operator-kit';
 * entryKind('/dev/null'); // 'other'
 * ```
 * @param path - Any path.
 * @returns `missing`, `file`, `folder`, `link` or `other` (a FIFO, a device, a socket).
 * @throws the file system's error other than "does not exist".
 */
export function entryKind(path: string): EntryKind {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  return kindOfStats(stats);
}

/**
 * The {@link EntryKind} of `lstat`/`fstat` results.
 *
 * ## Example
 * ```ts
 * import { lstatSync } from 'node:fs';
 * import { kindOfStats } from '@rxfit/core/operator-kit';
 * kindOfStats(lstatSync('.')); // 'folder'
 * ```
 * @param stats - The stats.
 * @returns The kind.
 */
export function kindOfStats(stats: Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink'>): EntryKind {
  if (stats.isSymbolicLink()) return 'link';
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'folder';
  return 'other';
}

/**
 * Words for what a special file is, for error messages ("a FIFO", "a character device").
 *
 * ## Example
 * ```ts
 * import { lstatSync } from 'node:fs';
 * import { describeStats } from '@rxfit/core/operator-kit';
 * describeStats(lstatSync('/dev/zero')); // 'a character device'
 * ```
 * @param stats - `lstat`/`fstat` results.
 * @returns A short description.
 */
export function describeStats(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return describeKind(kindOfStats(stats));
}

function describeKind(kind: EntryKind): string {
  return {
    missing: 'nothing',
    file: 'a regular file',
    folder: 'a folder',
    link: 'a symbolic link',
    other: 'a special file',
  }[kind];
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is not a folder',
    EEXIST: 'a file is in the way',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  };
  return (code !== undefined && reasons[code]) || (error instanceof Error ? error.message : String(error));
}
