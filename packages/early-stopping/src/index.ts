export {
  earlyStopping,
  earlyStoppingConfig,
  EARLY_STOPPING,
  WEIGHTS_RESTORED_EVENT,
  type EarlyStoppingOptions,
  type WeightsRestoredData,
} from './early-stopping.js';
export {
  initialState,
  reduce,
  type Direction,
  type StopCause,
  type EarlyStoppingConfig,
  type EarlyStoppingState,
  type EarlyStoppingDecision,
  type EarlyStoppingStep,
} from './reducer.js';
