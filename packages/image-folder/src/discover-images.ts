import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Keras' own list (`DirectoryIterator.white_list_formats`): pass it as `extensions` to list
 * exactly the files `flow_from_directory` lists (no GIF, no WebP).
 *
 * ## Example
 * ```ts
 * import { imageFolder, KERAS_EXTENSIONS } from '@rxfit/image-folder';
 * const data = await imageFolder('training_set', { extensions: KERAS_EXTENSIONS });
 * ```
 */
export const KERAS_EXTENSIONS: readonly string[] = Object.freeze([
  'png',
  'jpg',
  'jpeg',
  'bmp',
  'ppm',
  'tif',
  'tiff',
]);

/**
 * File-name endings `discoverImages` keeps, compared like Keras: lower-cased name ends with one of
 * them, no dot required. Keras' list (png, jpg, jpeg, bmp, ppm, tif, tiff) plus webp and gif.
 *
 * ## Example
 * ```ts
 * import { IMAGE_EXTENSIONS } from '@rxfit/image-folder';
 * IMAGE_EXTENSIONS.includes('webp'); // true
 * ```
 */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze([
  ...KERAS_EXTENSIONS,
  'webp',
  'gif',
]);

/**
 * What {@link discoverImages} looks for (the discovery half of Keras' `flow_from_directory`).
 *
 * ## Example
 * ```ts
 * import type { DiscoveryOptions } from '@rxfit/image-folder/pipeline';
 * const o: DiscoveryOptions = { classes: ['cats', 'dogs'], validationSplit: 0.2, subset: 'training' };
 * ```
 */
export interface DiscoveryOptions {
  /** Class folders in label order; default: every sub-folder, sorted by code point. */
  readonly classes?: readonly string[];
  /** Descend into symlinked sub-folders inside a class folder. @default false */
  readonly followLinks?: boolean;
  /** Fraction of each class (its first files) set aside for validation. @default 0 */
  readonly validationSplit?: number;
  /** Which side of `validationSplit` to list; `null` = all files. @default null */
  readonly subset?: 'training' | 'validation' | null;
  /** Accept class folders without images (Keras does); otherwise an error names them. @default false */
  readonly allowEmptyClasses?: boolean;
  /** Allowed endings. @default IMAGE_EXTENSIONS */
  readonly extensions?: readonly string[];
  /** Told about each folder that cannot be read (its images are left out). @default none */
  readonly onWarning?: (message: string) => void;
}

/**
 * The result of scanning a class-per-folder tree.
 *
 * ## Example
 * ```ts
 * import { discoverImages, type Discovery } from '@rxfit/image-folder/pipeline';
 * const d: Discovery = await discoverImages('training_set');
 * ```
 */
export interface Discovery {
  readonly classNames: readonly string[];
  readonly classIndices: Readonly<Record<string, number>>;
  /** `class/sub/file.jpg`, relative to the directory, `/`-separated, in Keras' order. */
  readonly filenames: readonly string[];
  /** Class index of each file. */
  readonly classes: Int32Array;
  /** `Found N images belonging to K classes.` */
  readonly description: string;
}

/**
 * Compares strings by Unicode code point, as Python's `sorted` does (JavaScript's default sort
 * compares UTF-16 code units, which differs for characters outside the BMP).
 *
 * ## Example
 * ```ts
 * import { compareCodePoints } from '@rxfit/image-folder';
 * ['b', 'B', 'a'].sort(compareCodePoints); // ['B', 'a', 'b']
 * ```
 *
 * @param a - first string
 * @param b - second string
 * @returns negative, zero or positive
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * The `[start, stop)` slice of a class's `n` sorted files that a subset keeps: validation takes
 * the first `trunc(split · n)`, training the rest (Keras' per-class split, independent of seed).
 *
 * ## Example
 * ```ts
 * import { subsetRange } from '@rxfit/image-folder';
 * subsetRange(10, 0.2, 'validation'); // [0, 2]
 * subsetRange(10, 0.2, 'training'); // [2, 10]
 * ```
 *
 * @param n - files in the class
 * @param split - `validationSplit`
 * @param subset - which side, or `null` for all
 * @returns start and stop indices
 */
export function subsetRange(
  n: number,
  split: number,
  subset: 'training' | 'validation' | null,
): [number, number] {
  if (subset === null) return [0, n];
  const [lo, hi] = subset === 'validation' ? [0, split] : [split, 1];
  return [Math.trunc(lo * n), Math.trunc(hi * n)];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Python's `os.walk(top, followlinks)`, collected: every directory with its file names. */
async function walk(
  top: string,
  followLinks: boolean,
  onWarning: (message: string) => void,
): Promise<{ root: string; files: string[] }[]> {
  const result: { root: string; files: string[] }[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    if (followLinks) {
      // Guard against symlink cycles, which would make os.walk loop forever.
      const real = await realpath(dir).catch(() => dir);
      if (seen.has(real)) return;
      seen.add(real);
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // os.walk skips unreadable directories silently; here the skip is told.
      const code = (error as NodeJS.ErrnoException).code;
      onWarning(`cannot read the folder "${dir}"${code ? ` (${code})` : ''}: its images are left out`);
      return;
    }
    const files: string[] = [];
    const dirs: string[] = [];
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) dirs.push(e.name);
      else if (e.isSymbolicLink()) {
        if (await isDirectory(full)) {
          if (followLinks) dirs.push(e.name);
        } else files.push(e.name);
      } else files.push(e.name);
    }
    result.push({ root: dir, files });
    for (const d of dirs) await visit(join(dir, d));
  };
  await visit(top);
  return result;
}

/**
 * Scans `directory` the way Keras' `DirectoryIterator` does: classes are the sorted sub-folder
 * names (hidden ones included) or `options.classes`; each class folder is walked recursively,
 * directories in path order and names in code-point order; files whose lower-cased name ends
 * with an allowed extension are kept; `validationSplit` + `subset` slice each class.
 *
 * ## Example
 * ```ts
 * import { discoverImages } from '@rxfit/image-folder/pipeline';
 * const { classIndices, filenames, description } = await discoverImages('training_set');
 * // description: 'Found 8000 images belonging to 2 classes.'
 * ```
 *
 * @param directory - the folder holding one sub-folder per class
 * @param options - classes, links, split
 * @returns classes, file list and the Keras message
 * @throws Error naming the folder when it is missing, has no class folders, a class has no
 *   images (unless `allowEmptyClasses`), or nothing is left to load
 */
export async function discoverImages(
  directory: string,
  options: DiscoveryOptions = {},
): Promise<Discovery> {
  if (!(await isDirectory(directory))) {
    throw new Error(`imageFolder: directory "${directory}" does not exist or is not a folder`);
  }
  let classNames: string[];
  if (options.classes) {
    classNames = [...options.classes];
  } else {
    const names = (await readdir(directory)).sort(compareCodePoints);
    classNames = [];
    for (const name of names) if (await isDirectory(join(directory, name))) classNames.push(name);
    if (classNames.length === 0) {
      throw new Error(
        `imageFolder: no class folders in "${directory}" (expected one sub-folder per class)`,
      );
    }
  }
  const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
  const followLinks = options.followLinks ?? false;
  const split = options.validationSplit ?? 0;
  const subset = options.subset ?? null;
  const filenames: string[] = [];
  const classes: number[] = [];
  for (let ci = 0; ci < classNames.length; ci++) {
    const name = classNames[ci]!;
    const classDir = join(directory, name);
    const exists = await isDirectory(classDir);
    if (!exists && !options.allowEmptyClasses) {
      throw new Error(`imageFolder: class folder "${classDir}" does not exist`);
    }
    const walked = exists ? await walk(classDir, followLinks, options.onWarning ?? (() => undefined)) : [];
    walked.sort((a, b) => compareCodePoints(a.root, b.root));
    const found: string[] = [];
    for (const { root, files } of walked) {
      const rel =
        root === classDir
          ? name
          : `${name}/${root
              .slice(classDir.length + 1)
              .split(/[\\/]/)
              .join('/')}`;
      for (const f of files.sort(compareCodePoints)) {
        const lower = f.toLowerCase();
        if (extensions.some((e) => lower.endsWith(e))) found.push(`${rel}/${f}`);
      }
    }
    if (found.length === 0 && !options.allowEmptyClasses) {
      throw new Error(
        `imageFolder: class folder "${classDir}" contains no images (${extensions.join(', ')}); ` +
          'remove it, list the classes explicitly with `classes`, or pass allowEmptyClasses: true',
      );
    }
    const [start, stop] = subsetRange(found.length, split, subset);
    for (let i = start; i < stop; i++) {
      filenames.push(found[i]!);
      classes.push(ci);
    }
  }
  const classIndices: Record<string, number> = {};
  classNames.forEach((n, i) => (classIndices[n] = i));
  return {
    classNames: Object.freeze(classNames),
    classIndices: Object.freeze(classIndices),
    filenames: Object.freeze(filenames),
    classes: Int32Array.from(classes),
    description: `Found ${filenames.length} images belonging to ${classNames.length} classes.`,
  };
}
