import * as tf from '@tensorflow/tfjs';
import { setLearningRate } from '@rxfit/core';
import {
  checkEntryName,
  isAtomicTemporary,
  prepareFileTarget,
  readRegularFile,
  readRegularFileSync,
  syncFolder,
  weightSpecBytes,
  writeFileAtomic,
} from '@rxfit/core/operator-kit';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The schema of `backup.json`. */
export const BACKUP_SCHEMA = 'rxfit.backup';
const BACKUP_VERSION = 1;
const META_FILE = 'backup.json';
/** The weights files a backup writes: `weights-<epoch>.bin`, `weights-<epoch>-final.bin`. */
const WEIGHTS_FILE = /^weights-\d+(-final)?\.bin$/;
/** `backup.json` is read whole: far larger is not a backup. */
const MAX_META_BYTES = 64 << 20;

/**
 * The entries of a backup folder that rxfit writes: `backup.json`, the weights files, and the
 * temporary files a killed save may leave behind. Anything else in the folder is the user's, and
 * makes `backupAndRestore` refuse the folder.
 *
 * ## Example
 * ```ts
 * import { isBackupEntry } from '@rxfit/event-log';
 * isBackupEntry('weights-3.bin'); // true
 * isBackupEntry('precious.txt'); // false
 * ```
 * @param name - An entry of the folder.
 * @returns True for a file a backup writes.
 */
export function isBackupEntry(name: string): boolean {
  return (
    name === META_FILE ||
    WEIGHTS_FILE.test(name) ||
    isAtomicTemporary(name, META_FILE) ||
    isAtomicTemporary(name, WEIGHTS_FILE)
  );
}

/**
 * Checks that `dir` can hold a backup: creates its parent, refuses a link, a file, or a folder
 * with files a backup does not write (they would be deleted with the backup).
 * @throws Error naming the folder and what is in it.
 */
export function checkBackupFolder(owner: string, dir: string): void {
  prepareFileTarget(owner, dir, { kind: 'folder', owns: isBackupEntry });
}

/** Where a run stood when its backup was taken: `backup.json` in the backup folder. */
export interface BackupMeta {
  readonly schema: typeof BACKUP_SCHEMA;
  readonly version: number;
  readonly runId: string;
  /** The last completed epoch. */
  readonly epoch: number;
  /** The epoch a resumed run starts with. */
  readonly nextEpoch: number;
  /** The `seq` of the last event that belongs to the backed-up state (the log position). */
  readonly lastSeq: number;
  /** The learning rate in force for `nextEpoch`. */
  readonly learningRate: number;
  /** True when the run ended (`deleteOnComplete: false`): resuming replays it and trains no more. */
  readonly completed: boolean;
  /** The optimizer's class, checked when restoring. */
  readonly optimizer: string;
  /** The file, in the same folder, that holds the model's and the optimizer's weights. */
  readonly weightsFile: string;
  readonly modelWeights: readonly tf.io.WeightsManifestEntry[];
  readonly optimizerWeights: readonly tf.io.WeightsManifestEntry[];
  /** The names tfjs gave the optimizer's weights (restored as they were saved). */
  readonly optimizerWeightNames: readonly string[];
  /**
   * Optimizer scalars that `getWeights` leaves out (Adam's `accBeta1`, `accBeta2`: its
   * `setWeights` recomputes them as powers, which differ from the running products in the last
   * float32 bit and would make a resumed run drift from an uninterrupted one).
   */
  readonly optimizerScalars: Readonly<Record<string, number>>;
}

/** Fields of tfjs optimizers that hold state outside `getWeights`. */
const HIDDEN_SCALARS = ['accBeta1', 'accBeta2'] as const;

function hiddenScalars(optimizer: tf.Optimizer): Map<string, tf.Variable> {
  const found = new Map<string, tf.Variable>();
  for (const name of HIDDEN_SCALARS) {
    const value = (optimizer as unknown as Record<string, unknown>)[name];
    if (value instanceof tf.Variable && value.size === 1) found.set(name, value as tf.Variable);
  }
  return found;
}

/** What {@link saveBackup} needs besides the model. */
export type BackupPosition = Pick<BackupMeta, 'runId' | 'epoch' | 'nextEpoch' | 'lastSeq' | 'learningRate' | 'completed'>;


/**
 * Saves the model's weights, the optimizer's state and the learning rate, atomically: the
 * weights go to a new file (temp + rename), then `backup.json` is replaced (temp + rename) to
 * point at it, then older weight files are removed. A crash at any moment leaves the previous
 * backup or the new one, never a mix.
 * @throws Error naming the folder when the optimizer cannot export its state.
 */
export async function saveBackup(dir: string, model: tf.LayersModel, position: BackupPosition): Promise<BackupMeta> {
  const optimizer = model.optimizer;
  const optimizerTensors = await optimizer.getWeights();
  const modelTensors = model.getWeights();
  let encodedModel: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  let encodedOptimizer: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    encodedModel = await tf.io.encodeWeights(modelTensors.map((tensor, i) => ({ name: `m${i}`, tensor })));
    encodedOptimizer = await tf.io.encodeWeights(optimizerTensors.map(({ tensor }, i) => ({ name: `o${i}`, tensor })));
  } finally {
    // getWeights returns the variables themselves, except for fresh tensors such as Adam's `iter`.
    for (const { tensor } of optimizerTensors) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  // The folder was checked when the run began (checkBackupFolder); a file added since is left alone.
  await mkdir(dir, { recursive: true });
  const weightsFile = `weights-${position.epoch}${position.completed ? '-final' : ''}.bin`;
  const data = new Uint8Array(encodedModel.data.byteLength + encodedOptimizer.data.byteLength);
  data.set(new Uint8Array(encodedModel.data), 0);
  data.set(new Uint8Array(encodedOptimizer.data), encodedModel.data.byteLength);
  await writeFileAtomic(join(dir, weightsFile), data);
  const meta: BackupMeta = {
    schema: BACKUP_SCHEMA,
    version: BACKUP_VERSION,
    ...position,
    optimizer: optimizer.getClassName(),
    weightsFile,
    modelWeights: encodedModel.specs,
    optimizerWeights: encodedOptimizer.specs,
    optimizerWeightNames: optimizerTensors.map(({ name }) => name),
    optimizerScalars: Object.fromEntries(
      await Promise.all([...hiddenScalars(optimizer)].map(async ([name, v]) => [name, (await v.data())[0]!] as const)),
    ),
  };
  await writeFileAtomic(join(dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  await syncFolder(dir);
  // Only what a backup writes is removed: older weights files and temporary files of killed saves.
  for (const name of await readdir(dir)) {
    if (name !== META_FILE && name !== weightsFile && isBackupEntry(name)) await rm(join(dir, name), { force: true });
  }
  return meta;
}

/**
 * Reads `backup.json` from a backup folder, to see where a resumable run stands.
 *
 * ## Example
 * ```ts
 * import { readBackup } from '@rxfit/event-log';
 * const backup = await readBackup('runs/x/backup');
 * if (backup) console.log(`run ${backup.runId} resumes at epoch ${backup.nextEpoch}`);
 * ```
 * @param dir - The folder given to `backupAndRestore`.
 * @returns The backup, or `undefined` when the folder holds none.
 * @throws Error naming the file when it is not an rxfit backup.
 */
export async function readBackup(dir: string): Promise<BackupMeta | undefined> {
  const path = join(dir, META_FILE);
  let text: string;
  try {
    text = (await readRegularFile(path, { maxBytes: MAX_META_BYTES, followLinks: false })).toString('utf8');
  } catch (error) {
    return missingOrFail(path, error);
  }
  return parseBackup(text, path);
}

/** {@link readBackup}, synchronous: `backupAndRestore` checks the folder on the `trainBegin` event itself. */
export function readBackupSync(dir: string): BackupMeta | undefined {
  const path = join(dir, META_FILE);
  let text: string;
  try {
    text = readRegularFileSync(path, { maxBytes: MAX_META_BYTES, followLinks: false }).toString('utf8');
  } catch (error) {
    return missingOrFail(path, error);
  }
  return parseBackup(text, path);
}

function missingOrFail(path: string, error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw new Error(`backup ${path}: cannot read it: ${(error as Error).message}`, { cause: error });
}

/** Checks `backup.json`'s text field by field: every error names the file and the entry. */
function parseBackup(text: string, path: string): BackupMeta {
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new Error(`backup ${path}: not JSON: ${(error as Error).message}`, { cause: error });
  }
  const record = (typeof meta === 'object' && meta !== null ? meta : {}) as Partial<Record<keyof BackupMeta, unknown>>;
  if (record.schema !== BACKUP_SCHEMA || record.version !== BACKUP_VERSION) {
    throw new Error(`backup ${path}: not an rxfit backup of version ${BACKUP_VERSION}`);
  }
  const fail = (entry: string, why: string): never => {
    throw new Error(`backup ${path}: ${entry} ${why}`);
  };
  try {
    checkEntryName(record.weightsFile);
  } catch (error) {
    fail('weightsFile', `is refused: ${(error as Error).message}`);
  }
  if (!WEIGHTS_FILE.test(record.weightsFile as string)) fail('weightsFile', `is not a backup's weights file: ${JSON.stringify(record.weightsFile)}`);
  for (const key of ['runId', 'optimizer'] as const) {
    if (typeof record[key] !== 'string') fail(key, `must be a string, got ${JSON.stringify(record[key])}`);
  }
  for (const key of ['epoch', 'nextEpoch', 'lastSeq'] as const) {
    if (!Number.isSafeInteger(record[key]) || (record[key] as number) < -1) fail(key, `must be an integer, got ${JSON.stringify(record[key])}`);
  }
  if (typeof record.learningRate !== 'number') fail('learningRate', `must be a number, got ${JSON.stringify(record.learningRate)}`);
  for (const key of ['modelWeights', 'optimizerWeights', 'optimizerWeightNames'] as const) {
    if (!Array.isArray(record[key])) fail(key, `must be an array, got ${JSON.stringify(record[key])}`);
  }
  return record as unknown as BackupMeta;
}

/**
 * Restores the model's weights, the optimizer's state and the learning rate from a backup.
 * @throws Error naming the folder when the model or optimizer does not match the backup.
 */
export async function restoreBackup(dir: string, meta: BackupMeta, model: tf.LayersModel): Promise<void> {
  const optimizer = model.optimizer;
  if (!optimizer) throw new TypeError('resumable: the model is not compiled: compile it before resuming');
  if (optimizer.getClassName() !== meta.optimizer) {
    throw new Error(`backup ${dir}: it holds the state of a ${meta.optimizer} optimizer, the model has a ${optimizer.getClassName()}`);
  }
  const weightsPath = join(dir, meta.weightsFile);
  let modelMap: tf.NamedTensorMap;
  let optimizerMap: tf.NamedTensorMap;
  try {
    const modelBytes = specBytes(meta.modelWeights);
    const expected = modelBytes + specBytes(meta.optimizerWeights);
    const bytes = await readRegularFile(weightsPath, { maxBytes: expected, followLinks: false });
    if (bytes.byteLength !== expected) {
      throw new Error(`it has ${bytes.byteLength} bytes, the backup's weights need ${expected} (a truncated file)`);
    }
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    modelMap = tf.io.decodeWeights(buffer.slice(0, modelBytes), [...meta.modelWeights]);
    optimizerMap = tf.io.decodeWeights(buffer.slice(modelBytes), [...meta.optimizerWeights]);
  } catch (error) {
    throw new Error(`backup ${dir}: cannot read its weights file ${weightsPath}: ${(error as Error).message}`, { cause: error });
  }
  const modelTensors = meta.modelWeights.map((spec) => modelMap[spec.name]!);
  const optimizerTensors = meta.optimizerWeights.map((spec, i) => ({
    name: meta.optimizerWeightNames[i] ?? spec.name,
    tensor: optimizerMap[spec.name]!,
  }));
  try {
    const expected = model.weights;
    if (expected.length !== modelTensors.length) {
      throw new Error(`backup ${dir}: it holds ${modelTensors.length} weights, the model has ${expected.length}`);
    }
    expected.forEach((weight, i) => {
      const shape = modelTensors[i]!.shape;
      if (weight.shape.join(',') !== shape.join(',')) {
        throw new Error(`backup ${dir}: weight ${i} (${weight.name}) has shape [${shape.join(', ')}], the model expects [${weight.shape.join(', ')}]`);
      }
    });
    model.setWeights(modelTensors);
    if (optimizerTensors.length > 0) await optimizer.setWeights(optimizerTensors);
    const scalars = hiddenScalars(optimizer);
    for (const [name, value] of Object.entries(meta.optimizerScalars ?? {})) {
      tf.tidy(() => scalars.get(name)?.assign(tf.scalar(value, 'float32')));
    }
    setLearningRate(optimizer, meta.learningRate);
  } finally {
    tf.dispose(modelTensors);
    tf.dispose(optimizerTensors.map(({ tensor }) => tensor));
  }
}

function specBytes(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, spec) => {
    const size = weightSpecBytes(spec);
    if (size === undefined) throw new TypeError(`weight ${JSON.stringify(spec.name)} is a string weight, which backups do not hold`);
    return n + size;
  }, 0);
}

/**
 * Removes a backup (after a run that ended): its own files only, then the folder when that left
 * it empty. A file someone put there meanwhile stays, and so does the folder.
 */
export async function deleteBackup(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // backup.json first: a kill in the middle leaves no backup rather than one without weights.
  await rm(join(dir, META_FILE), { force: true });
  await syncFolder(dir);
  for (const name of names) if (name !== META_FILE && isBackupEntry(name)) await rm(join(dir, name), { force: true });
  await rmdir(dir).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
  });
}
