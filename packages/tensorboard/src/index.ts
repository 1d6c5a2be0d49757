export { tensorBoard, type TensorBoardOptions } from './tensorboard.js';
export {
  decodeEventFile,
  readEventFile,
  type DecodedArray,
  type DecodedEventFile,
  type DecodedTag,
  type DecodedValue,
} from './read-event-file.js';
export { frameRecord, maskedCrc32c, readRecords, type ReadRecords } from './record.js';
export {
  fileVersionRecord,
  summaryRecord,
  FILE_VERSION,
  SESSION_START_INFO_TAG,
  type HParamValue,
  type SummaryValue,
} from './summary.js';
export { DEFAULT_BUCKET_COUNT, histogramBuckets } from './histogram.js';
export { eventFileName, nodeEventFileSystem, type EventFileSystem } from './event-file.js';
export {
  tensorBoardDecider,
  type RunFolder,
  type SummaryWrite,
  type TensorBoardCommand,
  type TensorBoardSettings,
  type TensorBoardState,
} from './decider.js';
