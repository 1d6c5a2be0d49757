export {
  modelCheckpoint,
  modelCheckpointDecider,
  type ModelCheckpointOptions,
} from './model-checkpoint.js';
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
export { type CheckpointState, type SavePoint } from './decider.js';
