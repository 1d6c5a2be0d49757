export {
  terminateOnNaN,
  terminateOnNaNDecider,
  NonFiniteLossError,
  TERMINATE_ON_NAN,
  type TerminateOnNaNOptions,
} from './terminate-on-nan.js';
export {
  type NonFiniteLoss,
  type TerminateOnNaNCommand,
  type TerminateOnNaNState,
} from './decider.js';
