export {
  findLearningRate,
  type FindLearningRateOptions,
  type LearningRateFinderResult,
} from './find-learning-rate.js';
export {
  gradient,
  minimum,
  steepest,
  suggestLearningRates,
  valley,
  SUGGESTION_METHODS,
  type Suggestion,
  type SuggestionMethod,
  type Suggestions,
} from './suggest.js';
export {
  sweepDecider,
  sweepLearningRate,
  type SweepCommand,
  type SweepSettings,
  type SweepState,
} from './decider.js';
export { sweepSpec, writeSweepPlot, type SweepPlotData } from './plot.js';
