export { fit, type FitOptions } from './fit.js';
export {
  controlOf,
  ControlError,
  reportWarning,
  type RunControl,
  type CommandOptions,
  type StopOptions,
} from './control.js';
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
export type { Batch, BatchSource, TensorData, TrainingData } from './data.js';
export {
  sink,
  SINK_MODES,
  type SinkHandler,
  type SinkHandlers,
  type SinkMode,
  type SinkOptions,
} from './sink.js';
export { type MissingMonitor, type MonitorDirection } from './monitor.js';
export { scriptedRun, SCRIPTED_BACKEND, type ScriptedRunOptions } from './testing.js';
export { decisionFold, type Decider, type Decision, type DecisionFold } from './decider.js';
