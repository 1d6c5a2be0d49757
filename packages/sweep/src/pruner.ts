import type { MonitorDirection } from '@rxfit/core';

/** Whether larger (`max`) or smaller (`min`) values of the sweep's metric are better: core's monitor direction. */
export type Mode = MonitorDirection;

/** What a trial reported at the end of one epoch. */
export interface TrialReport {
  readonly trialId: string;
  /** The epoch that ended (0-based). */
  readonly epoch: number;
  /** The sweep's metric in that epoch's logs. */
  readonly value: number;
}

/** What a pruner decided about one report. */
export type PruneDecision =
  | { readonly action: 'continue' }
  | {
      /** `prune`: worse than its peers; `stop`: done by the pruner's budget (ASHA's `maxT`). */
      readonly action: 'prune' | 'stop';
      readonly reason: string;
      /** ASHA: the rung (0 = first) and its milestone in epochs; the median pruner: the step. */
      readonly rung?: number;
      readonly milestone?: number;
      readonly value: number;
      readonly cutoff?: number;
    };

/** How a trial ended, as a pruner needs to know it. */
export type TrialStatus = 'completed' | 'pruned' | 'failed';

/**
 * A pruner as a pure state machine over the trials' `epochEnd` reports; `sweep` holds one state
 * per subscription. Reports are idempotent per (trial, epoch): a resumed trial that reports an
 * epoch again does not count twice.
 */
export interface Pruner<S = unknown> {
  readonly name: string;
  initialState(mode: Mode): S;
  report(state: S, report: TrialReport): { readonly state: S; readonly decision: PruneDecision };
  finished(state: S, trialId: string, status: TrialStatus): S;
}

/**
 * NumPy's `percentile` with its default linear interpolation (`nanpercentile`: NaN values are
 * left out); `undefined` for no values.
 */
export function percentile(values: readonly number[], q: number): number | undefined {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const position = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return lo === hi ? a : a + (b - a) * (position - lo);
}

export const CONTINUE: PruneDecision = Object.freeze({ action: 'continue' });
