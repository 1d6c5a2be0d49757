export {
  terminateOnNaN,
  NonFiniteLossError,
  TERMINATE_ON_NAN,
  type TerminateOnNaNOptions,
} from './terminate-on-nan.js';
export {
  initialState,
  reduce,
  type NonFiniteLoss,
  type TerminateOnNaNConfig,
  type TerminateOnNaNDecision,
  type TerminateOnNaNState,
  type TerminateOnNaNStep,
} from './reducer.js';
