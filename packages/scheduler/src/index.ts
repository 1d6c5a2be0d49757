export { learningRateScheduler } from './learning-rate-scheduler.js';
export { reduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export {
  initialState,
  reduce,
  type Direction,
  type PlateauConfig,
  type PlateauDecision,
  type PlateauState,
  type PlateauStep,
} from './reducer.js';
export {
  cosineDecay,
  exponentialDecay,
  oneCycle,
  stepDecay,
  type CosineDecayOptions,
  type ExponentialDecayOptions,
  type OneCycleOptions,
  type Schedule,
  type StepDecayOptions,
} from './schedules.js';
