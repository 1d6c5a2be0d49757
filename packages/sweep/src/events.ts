import type { TrainingEvent } from '@rxfit/core';
import type { Mode } from './pruner.js';
import type { Params } from './space.js';
import type { TrialResult } from './types.js';

/**
 * Fields of every sweep event: like a run's, the logged ones numbered without gaps across resumes;
 * a `trialEvent` (not logged: the trial's own log holds it) shares the `seq` of the event before it.
 */
export interface SweepEventBase {
  readonly sweepId: string;
  readonly seq: number;
  readonly time: number;
  readonly replayed?: true;
}

/** What a sweep emits (and, but for `trialEvent`, logs in `sweep.jsonl`). */
export type SweepEvent = SweepEventBase &
  (
    | {
        readonly type: 'sweepBegin';
        readonly resumed: boolean;
        readonly params: {
          readonly metric: string;
          readonly mode: Mode;
          readonly maxTrials: number;
          readonly concurrency: number;
          readonly sampler: string;
          readonly pruner?: string;
          readonly executor: string;
          readonly space: Readonly<Record<string, unknown>>;
        };
      }
    | { readonly type: 'trialStarted'; readonly trialId: string; readonly index: number; readonly params: Params; readonly attempt: number }
    | { readonly type: 'trialRunning'; readonly trialId: string; readonly attempt: number; readonly worker: string }
    | { readonly type: 'trialEvent'; readonly trialId: string; readonly attempt: number; readonly event: TrainingEvent }
    | {
        readonly type: 'trialPruned';
        readonly trialId: string;
        readonly epoch: number;
        readonly reason: string;
        readonly rung?: number;
        readonly milestone?: number;
        readonly value: number;
        readonly cutoff?: number;
      }
    | { readonly type: 'trialRetried'; readonly trialId: string; readonly attempt: number; readonly reason: string }
    | { readonly type: 'trialCompleted'; readonly trialId: string; readonly index: number; readonly params: Params; readonly result: TrialResult }
    | {
        readonly type: 'trialFailed';
        readonly trialId: string;
        readonly index: number;
        readonly params: Params;
        readonly error: string;
        readonly attempts: number;
        readonly result: TrialResult;
      }
    | {
        readonly type: 'sweepEnd';
        readonly completed: number;
        readonly pruned: number;
        readonly failed: number;
        readonly best?: { readonly trialId: string; readonly params: Params; readonly value: number; readonly epoch: number };
      }
  );

/** Distributes over the union, so `Omit` keeps each variant's fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A sweep event before the sweep numbers it. */
export type SweepEventBody = DistributiveOmit<SweepEvent, keyof SweepEventBase>;

/** The sweep event of one type. */
export type SweepEventOf<T extends SweepEvent['type']> = Extract<SweepEvent, { type: T }>;
