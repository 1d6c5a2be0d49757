import type * as tf from '@tensorflow/tfjs';
import {
  checkEntryName,
  checkFileTarget,
  kindOfStats,
  readRegularFile,
  weightSpecBytes,
  type EntryKind,
} from '@rxfit/core/operator-kit';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * The file operations a checkpoint needs, as a port: the default is {@link nodeFileSystem};
 * tests inject one that fails at a chosen step to check that a crash leaves a loadable checkpoint.
 */
export interface FileSystemPort {
  /** Creates a directory and its parents; succeeds when it exists. */
  mkdir(path: string): Promise<void>;
  /** Writes a whole file and flushes it to disk (fsync) before resolving. */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Flushes a directory's entries (renames, new files) to disk; a no-op where unsupported. */
  syncDir(path: string): Promise<void>;
  /** Renames a file or directory (atomic within one file system). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a directory tree; succeeds when it does not exist. */
  remove(path: string): Promise<void>;
  /**
   * Reads a whole regular file, without following a symbolic link at `path`; a special file
   * (FIFO, device) or a file larger than `maxBytes` is refused before anything is read.
   */
  readFile(path: string, maxBytes?: number): Promise<Uint8Array>;
  /** The names in a directory. */
  readdir(path: string): Promise<string[]>;
  /** What is at `path` (a final symbolic link is not followed: `'link'`), or `undefined` when nothing is. */
  kind(path: string): Promise<'file' | 'directory' | 'link' | 'other' | undefined>;
}

/**
 * The {@link FileSystemPort} on `node:fs`, with fsync on files and directories.
 *
 * ## Example
 * ```ts
 * import { fileSystem, nodeFileSystem } from '@rxfit/checkpoint';
 * const handler = fileSystem('checkpoints/best', { fileSystem: nodeFileSystem });
 * ```
 */
export const nodeFileSystem: FileSystemPort = {
  async mkdir(path) {
    await fsp.mkdir(path, { recursive: true });
  },
  async writeFile(path, data) {
    const handle = await fsp.open(path, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async syncDir(path) {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(path, 'r');
      await handle.sync();
    } catch (error) {
      // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES')
        throw error;
    } finally {
      await handle?.close();
    }
  },
  async rename(from, to) {
    await fsp.rename(from, to);
  },
  async remove(path) {
    await fsp.rm(path, { recursive: true, force: true });
  },
  async readFile(path, maxBytes) {
    return readRegularFile(path, { followLinks: false, ...(maxBytes === undefined ? {} : { maxBytes }) });
  },
  async readdir(path) {
    return fsp.readdir(path);
  },
  async kind(path) {
    try {
      const kind = kindOfStats(await fsp.lstat(path));
      return kind === 'folder' ? 'directory' : kind === 'missing' ? undefined : kind;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
};

/** The file holding the topology and the weights manifest. */
export const MODEL_JSON = 'model.json';
/** The file holding the weight values. */
export const WEIGHTS_BIN = 'weights.bin';
const CHECKPOINT_FILES = new Set([MODEL_JSON, WEIGHTS_BIN]);
/** model.json holds a topology and a manifest: far larger is not a checkpoint. */
const MAX_MODEL_JSON_BYTES = 256 << 20;
/** Names the operation in the errors of a save, once (the target checks already name it). */
const SAVING = 'saving checkpoint';

/** Options of {@link fileSystem}. */
export interface FileSystemOptions {
  /** The file operations to use. @default nodeFileSystem */
  readonly fileSystem?: FileSystemPort;
}

/** A `tf.io.IOHandler` whose `save` and `load` are both present. */
export interface FileSystemHandler extends tf.io.IOHandler {
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  load(): Promise<tf.io.ModelArtifacts>;
}

/**
 * A `tf.io.IOHandler` that saves and loads the tfjs layers format (`model.json` + `weights.bin`)
 * in a local directory with `node:fs`, without tfjs-node. Saving is atomic: the files are written
 * and fsynced in a temporary sibling directory, the previous checkpoint is renamed to
 * `<path>.old`, the new one renamed into place, then `<path>.old` is removed. Loading falls back
 * to `<path>.old` when `<path>` is missing, so a crash at any moment leaves the old or the new
 * checkpoint loadable.
 *
 * ## Example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { fileSystem } from '@rxfit/checkpoint';
 * await model.save(fileSystem('models/mnist'), { includeOptimizer: true });
 * const again = await tf.loadLayersModel(fileSystem('models/mnist'));
 * ```
 * @param path - The checkpoint directory (for loading, its `model.json` is accepted too).
 * @param options - See {@link FileSystemOptions}.
 * @returns The handler.
 * @throws TypeError when `path` is not a non-empty string.
 */
export function fileSystem(path: string, options: FileSystemOptions = {}): FileSystemHandler {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`fileSystem: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  const fs = options.fileSystem ?? nodeFileSystem;
  return {
    save: async (artifacts) => {
      const target = resolve(path);
      try {
        return await saveArtifacts(fs, target, artifacts);
      } catch (error) {
        const message = (error as Error).message;
        if (message.startsWith(`${SAVING}: `)) throw error;
        throw new Error(`${SAVING} ${target}: ${message}`, { cause: error });
      }
    },
    load: () => loadArtifacts(fs, resolve(path)),
  };
}

async function saveArtifacts(
  fs: FileSystemPort,
  target: string,
  artifacts: tf.io.ModelArtifacts,
): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new TypeError('binary (GraphDef) model topologies are not supported');
  }
  const parent = dirname(target);
  const name = basename(target);
  const old = `${target}.old`;
  await checkCheckpointTarget(fs, target);
  // A crash may have left temporary directories of earlier saves: they are never loaded, remove them.
  for (const entry of await fs.readdir(parent)) {
    if (entry.startsWith(`${name}.tmp-`)) await fs.remove(join(parent, entry));
  }

  const weightData = toBytes(artifacts.weightData);
  const modelJSON: Record<string, unknown> = {
    ...(artifacts.modelTopology === undefined ? {} : { modelTopology: artifacts.modelTopology }),
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
  };
  if (artifacts.trainingConfig != null) modelJSON['trainingConfig'] = artifacts.trainingConfig;
  if (artifacts.signature != null) modelJSON['signature'] = artifacts.signature;
  if (artifacts.userDefinedMetadata != null)
    modelJSON['userDefinedMetadata'] = artifacts.userDefinedMetadata;

  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await fs.mkdir(tmp);
    await fs.writeFile(join(tmp, WEIGHTS_BIN), weightData);
    // model.json last: a directory with a model.json has its weights complete.
    await fs.writeFile(join(tmp, MODEL_JSON), JSON.stringify(modelJSON));
    await fs.syncDir(tmp);
  } catch (error) {
    await fs.remove(tmp).catch(() => undefined);
    throw error;
  }

  // From here on, a crash leaves <target> (old or new) or <target>.old (old) complete.
  if ((await fs.kind(target)) !== undefined) {
    // <target> is complete, so an <target>.old beside it is stale (a crash after the last rename).
    await fs.remove(old);
    await fs.rename(target, old);
  }
  await fs.rename(tmp, target);
  await fs.syncDir(parent);
  await fs.remove(old);

  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes:
        artifacts.modelTopology === undefined
          ? 0
          : Buffer.byteLength(JSON.stringify(artifacts.modelTopology)),
      weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
      weightDataBytes: weightData.byteLength,
    },
  };
}

/**
 * Checks, through the port, that a checkpoint can be written at `target` (core's rule for every
 * writer, see `checkFileTarget`): creates the parent folder, and refuses a link, a file, or a
 * folder with files other than a checkpoint's, so replacing the checkpoint deletes nothing else.
 * `modelCheckpoint` runs it when the run begins, and every save runs it again.
 * @throws Error naming the path and what is in the way.
 */
export async function checkCheckpointTarget(fs: FileSystemPort, target: string, owner = SAVING): Promise<void> {
  await ensureFolder(fs, dirname(target), owner, target);
  const kind = await fs.kind(target);
  const found: EntryKind = kind === undefined ? 'missing' : kind === 'directory' ? 'folder' : kind;
  const entries = found === 'folder' ? await fs.readdir(target) : [];
  checkFileTarget(owner, target, found, entries, { kind: 'folder', owns: (name) => CHECKPOINT_FILES.has(name) });
}

/**
 * Creates `folder` (and its parents) through the port.
 * @throws Error naming the folder and `forPath`, the path it is created for.
 */
export async function ensureFolder(fs: FileSystemPort, folder: string, owner: string, forPath: string): Promise<void> {
  try {
    await fs.mkdir(folder);
  } catch (error) {
    throw new Error(`${owner}: cannot create the folder ${folder} for ${forPath}: ${(error as Error).message}`, { cause: error });
  }
}

async function loadArtifacts(fs: FileSystemPort, path: string): Promise<tf.io.ModelArtifacts> {
  const dir = await checkpointDirectory(fs, path);
  const jsonPath = join(dir, MODEL_JSON);
  const fail = (message: string, cause?: unknown): never => {
    throw new Error(`loading checkpoint ${jsonPath}: ${message}`, cause === undefined ? undefined : { cause });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(await fs.readFile(jsonPath, MAX_MODEL_JSON_BYTES)).toString('utf8'));
  } catch (error) {
    fail((error as Error).message, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail(`not a tfjs model.json: expected an object, got ${JSON.stringify(parsed)}`);
  }
  const modelJSON = parsed as tf.io.ModelJSON;
  const artifacts: tf.io.ModelArtifacts = {
    ...(modelJSON.modelTopology === undefined ? {} : { modelTopology: modelJSON.modelTopology }),
    format: modelJSON.format,
    generatedBy: modelJSON.generatedBy,
    convertedBy: modelJSON.convertedBy,
  };
  if (modelJSON.weightsManifest != null) {
    const { specs, data } = await readWeights(fs, dir, modelJSON.weightsManifest, fail);
    artifacts.weightSpecs = specs;
    artifacts.weightData = data;
  }
  if (modelJSON.trainingConfig != null) artifacts.trainingConfig = modelJSON.trainingConfig;
  if (modelJSON.signature != null) artifacts.signature = modelJSON.signature;
  if (modelJSON.userDefinedMetadata != null)
    artifacts.userDefinedMetadata = modelJSON.userDefinedMetadata;
  return artifacts;
}

/**
 * Reads the weight files a manifest lists: each a plain file name in the checkpoint's folder
 * (never `../`, never a link, never twice), each group exactly as long as its weights need.
 */
async function readWeights(
  fs: FileSystemPort,
  dir: string,
  manifest: unknown,
  fail: (message: string, cause?: unknown) => never,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  if (!Array.isArray(manifest)) fail(`weightsManifest must be an array of groups, got ${JSON.stringify(manifest)}`);
  const buffers: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const seen = new Set<string>();
  for (const [g, group] of (manifest as unknown[]).entries()) {
    const at = `weightsManifest[${g}]`;
    const { paths, weights } = (typeof group === 'object' && group !== null ? group : {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths)) fail(`${at}.paths must be an array of file names, got ${JSON.stringify(paths)}`);
    if (!Array.isArray(weights)) fail(`${at}.weights must be an array of weight specs, got ${JSON.stringify(weights)}`);
    let expected: number | undefined = 0;
    for (const [w, spec] of (weights as unknown[]).entries()) {
      try {
        const size = weightSpecBytes(spec as tf.io.WeightsManifestEntry);
        expected = size === undefined || expected === undefined ? undefined : expected + size;
      } catch (error) {
        fail(`${at}.weights[${w}]: ${(error as Error).message}`, error);
      }
    }
    let read = 0;
    for (const [p, file] of (paths as unknown[]).entries()) {
      try {
        checkEntryName(file);
      } catch (error) {
        fail(`${at}.paths[${p}] is refused: ${(error as Error).message}`, error);
      }
      if (seen.has(file)) fail(`${at}.paths[${p}] lists ${JSON.stringify(file)} a second time`);
      seen.add(file);
      const filePath = join(dir, file);
      try {
        const bytes = await fs.readFile(filePath, expected === undefined ? undefined : expected - read);
        read += bytes.byteLength;
        buffers.push(bytes);
      } catch (error) {
        fail(`${at}.paths[${p}]: cannot read weight file ${filePath}: ${(error as Error).message}`, error);
      }
    }
    if (expected !== undefined && read !== expected) {
      fail(`${at}: its files (${(paths as string[]).join(', ')}) hold ${read} bytes, its weights need ${expected} (a truncated file)`);
    }
    specs.push(...(weights as tf.io.WeightsManifestEntry[]));
  }
  return { specs, data: concat(buffers) };
}

/**
 * The directory to load: `path` itself, or `<path>.old` when a crash came between the two renames
 * of a save. A `model.json` path is accepted as tfjs-node's handler does.
 */
async function checkpointDirectory(fs: FileSystemPort, path: string): Promise<string> {
  // The folder you give may be a link; the files it holds may not (they are read with no-follow).
  const kind = await fs.kind(path);
  if (kind === 'file' && basename(path) === MODEL_JSON) return dirname(path);
  if (kind === 'directory' || kind === 'link') {
    const json = await fs.kind(join(path, MODEL_JSON));
    if (json === 'file') return path;
    if (json !== undefined) {
      throw new Error(`no checkpoint at ${path}: its ${MODEL_JSON} is not a regular file (${json === 'link' ? 'a symbolic link' : 'a special file'})`);
    }
  }
  const old = `${path}.old`;
  if (kind === undefined && (await fs.kind(join(old, MODEL_JSON))) === 'file') return old;
  throw new Error(
    kind === undefined
      ? `no checkpoint at ${path}: it does not exist (nor ${old})`
      : `no checkpoint at ${path}: ${MODEL_JSON} is missing`,
  );
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (Array.isArray(data)) return new Uint8Array(concat(data.map((b) => new Uint8Array(b))));
  return new Uint8Array(data);
}

function concat(parts: readonly Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}
