export { sweep, trialIdOf, type SweepOptions } from './sweep.js';
export { choice, uniform, logUniform, int, type ParamSpec, type ParamValue, type Params, type Space } from './space.js';
export { gridSampler, randomSampler, type GridSamplerOptions, type RandomSamplerOptions, type Sampler } from './samplers.js';
export { asha, ashaMilestones, type AshaOptions, type AshaRung, type AshaState } from './asha.js';
export { medianPruner, type MedianPrunerOptions, type MedianState } from './median.js';
export { percentile, type Mode, type PruneDecision, type Pruner, type TrialReport, type TrialStatus } from './pruner.js';
export { inProcessExecutor } from './in-process-executor.js';
export { localExecutor, type LocalExecutorOptions } from './local-executor.js';
export { readSweepLog } from './sweep-log.js';
export { formatLeaderboard, leaderboardOf, toLeaderboard, type Leaderboard, type LeaderboardRow } from './leaderboard.js';
export type { SweepEvent, SweepEventBase, SweepEventBody, SweepEventOf } from './events.js';
export type {
  ExecutionOutcome,
  Executor,
  ExecutorContext,
  ExecutorSession,
  RunnerOutcome,
  StopOrder,
  TrialContext,
  TrialExecution,
  TrialFunction,
  TrialMessage,
  TrialResult,
  TrialResume,
  TrialSpec,
} from './types.js';
