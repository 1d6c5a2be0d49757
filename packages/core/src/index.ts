export { fit, type FitOptions } from './fit.js';
export { controlOf, ControlError, reportWarning, type RunControl, type CommandOptions, type StopOptions } from './control.js';
export {
  isEvent,
  warningOf,
  WARNING_EVENT,
  DATA_SOURCE_EVENT,
  type DataSourceData,
  type EventBase,
  type EventOfType,
  type Logs,
  type TrainEndReason,
  type TrainingEvent,
  type TrainingEventBody,
  type TrainParams,
  type WarningData,
} from './events.js';
export { toHistory, type History } from './history.js';
export { callback, type CallbackHooks, type HookResult } from './callback.js';
export { getLearningRate, setLearningRate } from './learning-rate.js';
export { TrainingError } from './errors.js';
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
export type { Batch, BatchSource, TensorData, TrainingData } from './data.js';
export { sink, SINK_MODES, type SinkHandler, type SinkHandlers, type SinkMode, type SinkOptions } from './sink.js';
export {
  isImprovement,
  monitorCheck,
  monitorDirection,
  monitorSettings,
  unknownLogKey,
  type MissingMonitor,
  type MonitorDirection,
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
export { weightSpecBytes, type WeightSpecSize } from './weight-bytes.js';
export { scriptedRun, SCRIPTED_BACKEND, type ScriptedRunOptions } from './testing.js';
export { effectQueue, type EffectQueue } from './effect-queue.js';
