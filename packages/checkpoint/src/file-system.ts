import type * as tf from '@tensorflow/tfjs';
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
  readFile(path: string): Promise<Uint8Array>;
  /** The names in a directory. */
  readdir(path: string): Promise<string[]>;
  /** What is at `path`, or `undefined` when nothing is. */
  kind(path: string): Promise<'file' | 'directory' | 'other' | undefined>;
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
  async readFile(path) {
    return fsp.readFile(path);
  },
  async readdir(path) {
    return fsp.readdir(path);
  },
  async kind(path) {
    try {
      const stats = await fsp.stat(path);
      return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
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
        throw new Error(`saving checkpoint ${target}: ${(error as Error).message}`, {
          cause: error,
        });
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
  await fs.mkdir(parent);
  await checkTarget(fs, target);
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

/** Refuses to replace anything that is not a checkpoint directory, so a wrong path never deletes user data. */
async function checkTarget(fs: FileSystemPort, target: string): Promise<void> {
  const kind = await fs.kind(target);
  if (kind === undefined) return;
  if (kind !== 'directory') {
    throw new Error('it exists and is not a directory');
  }
  const foreign = (await fs.readdir(target)).filter((entry) => !CHECKPOINT_FILES.has(entry));
  if (foreign.length > 0) {
    throw new Error(
      `it is an existing directory with other files (${foreign.slice(0, 5).join(', ')}); ` +
        'give a path of its own (for example a subdirectory) so replacing the checkpoint deletes nothing else',
    );
  }
}

async function loadArtifacts(fs: FileSystemPort, path: string): Promise<tf.io.ModelArtifacts> {
  const dir = await checkpointDirectory(fs, path);
  const jsonPath = join(dir, MODEL_JSON);
  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(
      Buffer.from(await fs.readFile(jsonPath)).toString('utf8'),
    ) as tf.io.ModelJSON;
  } catch (error) {
    throw new Error(`loading checkpoint ${jsonPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const artifacts: tf.io.ModelArtifacts = {
    ...(modelJSON.modelTopology === undefined ? {} : { modelTopology: modelJSON.modelTopology }),
    format: modelJSON.format,
    generatedBy: modelJSON.generatedBy,
    convertedBy: modelJSON.convertedBy,
  };
  if (modelJSON.weightsManifest != null) {
    const buffers: Uint8Array[] = [];
    const specs: tf.io.WeightsManifestEntry[] = [];
    for (const group of modelJSON.weightsManifest) {
      for (const file of group.paths) {
        const filePath = join(dir, file);
        try {
          buffers.push(await fs.readFile(filePath));
        } catch (error) {
          throw new Error(
            `loading checkpoint ${path}: cannot read weight file ${filePath}: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }
      specs.push(...group.weights);
    }
    artifacts.weightSpecs = specs;
    artifacts.weightData = concat(buffers);
  }
  if (modelJSON.trainingConfig != null) artifacts.trainingConfig = modelJSON.trainingConfig;
  if (modelJSON.signature != null) artifacts.signature = modelJSON.signature;
  if (modelJSON.userDefinedMetadata != null)
    artifacts.userDefinedMetadata = modelJSON.userDefinedMetadata;
  return artifacts;
}

/**
 * The directory to load: `path` itself, or `<path>.old` when a crash came between the two renames
 * of a save. A `model.json` path is accepted as tfjs-node's handler does.
 */
async function checkpointDirectory(fs: FileSystemPort, path: string): Promise<string> {
  const kind = await fs.kind(path);
  if (kind === 'file' && basename(path) === MODEL_JSON) return dirname(path);
  if (kind === 'directory' && (await fs.kind(join(path, MODEL_JSON))) === 'file') return path;
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
