export { learningRateScheduler } from './learning-rate-scheduler.js';
export {
  reduceLROnPlateau,
  reduceLROnPlateauDecider,
  type ReduceLROnPlateauOptions,
} from './reduce-lr-on-plateau.js';
export { type PlateauCommand, type PlateauState } from './plateau-decider.js';
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
