export { modelCheckpoint, type ModelCheckpointOptions } from './model-checkpoint.js';
export {
  saveModel,
  loadCheckpoint,
  loadWeights,
  type SaveModelOptions,
  type LoadOptions,
} from './save-model.js';
export {
  fileSystem,
  nodeFileSystem,
  MODEL_JSON,
  WEIGHTS_BIN,
  type FileSystemHandler,
  type FileSystemOptions,
  type FileSystemPort,
} from './file-system.js';
export {
  pythonFormat,
  parseTemplate,
  FormatKeyError,
  type FormatSpec,
  type PythonFormatOptions,
  type TemplateField,
  type TemplatePart,
} from './python-format.js';
export {
  initialState,
  reduce,
  type CheckpointConfig,
  type CheckpointState,
  type CheckpointStep,
  type Direction,
  type SavePoint,
} from './reducer.js';
