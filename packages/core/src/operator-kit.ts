// @rxfit/core/operator-kit: what rxfit's own operators are built with, for writing one's own:
// option checks with Keras-aware messages, the monitor check, the improvement test, the file-target
// rule and safe reads, atomic writes, ordered side effects, seeded random streams.
export { failRun } from './control.js';
export {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  closestName,
} from './validate.js';
export {
  isImprovement,
  monitorCheck,
  monitorDirection,
  monitorSettings,
  unknownLogKey,
  type MonitorSettings,
} from './monitor.js';
export { epochOrder, seededRandom, type Random } from './seeded-random.js';
export { isAtomicTemporary, syncFolder, writeFileAtomic } from './write-file-atomic.js';
export {
  checkFileTarget,
  describeStats,
  entryKind,
  kindOfStats,
  prepareFileTarget,
  type EntryKind,
  type FileTargetKind,
  type FileTargetOptions,
} from './file-target.js';
export {
  checkEntryName,
  NotRegularFileError,
  readRegularFile,
  readRegularFileSync,
  type ReadRegularFileOptions,
} from './read-regular-file.js';
export { nonFiniteReplacer, nonFiniteReviver } from './json-non-finite.js';
export { weightSpecBytes, type WeightSpecSize } from './weight-bytes.js';
export { effectQueue, type EffectQueue } from './effect-queue.js';
export {
  nodeLogFileIo,
  openAppendLog,
  type LogFileIo,
  type LogHeader,
  type OpenedLog,
} from './append-log.js';
