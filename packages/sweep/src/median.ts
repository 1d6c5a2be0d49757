import { checkInteger, checkOptions } from '@rxfit/core/operator-kit';
import { CONTINUE, percentile, type Mode, type Pruner, type TrialReport } from './pruner.js';

/** Options of {@link medianPruner}; the defaults are Optuna's `MedianPruner`. */
export interface MedianPrunerOptions {
  /** No pruning until this many trials completed (pruned trials do not count). @default 5 */
  readonly nStartupTrials?: number;
  /** No pruning before this step (epoch, 0-based) of a trial. @default 0 */
  readonly nWarmupSteps?: number;
  /** Prune only at every this many steps after the warm-up. @default 1 */
  readonly intervalSteps?: number;
  /** No pruning at a step that fewer completed trials reported. @default 1 */
  readonly nMinTrials?: number;
}

/** The median pruner's state: each trial's values by step, and which trials completed. */
export interface MedianState {
  readonly mode: Mode;
  readonly values: Readonly<Record<string, Readonly<Record<number, number>>>>;
  readonly completed: readonly string[];
}

/**
 * Optuna's `MedianPruner` (a `PercentilePruner` at 50): at step t (the epoch), prune a trial whose
 * best value so far is worse than the median of the completed trials' values at step t.
 *
 * ## Example
 * ```ts
 * import { medianPruner, sweep } from '@rxfit/sweep';
 * sweep({ ..., metric: 'val_loss', pruner: medianPruner({ nStartupTrials: 3 }) });
 * ```
 * @param options - See {@link MedianPrunerOptions}.
 * @returns The pruner.
 * @throws RangeError for bad options.
 */
export function medianPruner(options: MedianPrunerOptions = {}): Pruner<MedianState> {
  checkOptions('medianPruner', options, ['nStartupTrials', 'nWarmupSteps', 'intervalSteps', 'nMinTrials']);
  const { nStartupTrials = 5, nWarmupSteps = 0, intervalSteps = 1, nMinTrials = 1 } = options;
  checkInteger('medianPruner', 'nStartupTrials', nStartupTrials, 0);
  checkInteger('medianPruner', 'nWarmupSteps', nWarmupSteps, 0);
  checkInteger('medianPruner', 'intervalSteps', intervalSteps, 1);
  checkInteger('medianPruner', 'nMinTrials', nMinTrials, 1);
  return {
    name: `median(nStartupTrials ${String(nStartupTrials)}, nWarmupSteps ${String(nWarmupSteps)})`,
    initialState: (mode) => ({ mode, values: {}, completed: [] }),
    report(state, report: TrialReport) {
      const { trialId, epoch: step, value } = report;
      const before = state.values[trialId] ?? {};
      state = { ...state, values: { ...state.values, [trialId]: { ...before, [step]: value } } };
      const n = state.completed.length;
      if (n === 0 || n < nStartupTrials || step < nWarmupSteps) return { state, decision: CONTINUE };
      // Optuna's _is_first_in_interval_step.
      const nearestLower = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
      const secondLast = Object.keys(before).map(Number).filter((s) => s !== step).reduce((a, s) => Math.max(a, s), -1);
      if (!(secondLast < nearestLower)) return { state, decision: CONTINUE };
      const own = Object.values(state.values[trialId]!).filter((v) => !Number.isNaN(v));
      const best = own.length === 0 ? NaN : state.mode === 'max' ? Math.max(...own) : Math.min(...own);
      if (Number.isNaN(best)) return { state, decision: { action: 'prune', reason: `median: ${String(value)} at step ${String(step)}`, rung: step, value } };
      const peers = state.completed.map((id) => state.values[id]?.[step]).filter((v): v is number => v !== undefined);
      if (peers.length < nMinTrials) return { state, decision: CONTINUE };
      const median = percentile(peers, 50);
      if (median === undefined) return { state, decision: CONTINUE };
      const worse = state.mode === 'max' ? best < median : best > median;
      if (!worse) return { state, decision: CONTINUE };
      return {
        state,
        decision: {
          action: 'prune',
          reason: `median: best ${best.toPrecision(4)} by step ${String(step)} is ${state.mode === 'max' ? 'below' : 'above'} the median ${median.toPrecision(4)} of ${String(peers.length)} completed trials`,
          rung: step,
          milestone: step,
          value: best,
          cutoff: median,
        },
      };
    },
    finished(state, trialId, status) {
      if (status !== 'completed' || state.completed.includes(trialId)) return state;
      return { ...state, completed: [...state.completed, trialId] };
    },
  };
}
