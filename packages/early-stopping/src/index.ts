export {
  earlyStopping,
  earlyStoppingDecider,
  EARLY_STOPPING,
  WEIGHTS_RESTORED_EVENT,
  type EarlyStoppingOptions,
  type WeightsRestoredData,
} from './early-stopping.js';
export {
  type StopCause,
  type EarlyStoppingState,
  type EarlyStoppingCommand,
} from './decider.js';
