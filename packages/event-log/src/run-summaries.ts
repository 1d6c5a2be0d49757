import type { TrainEndReason, TrainingEvent } from '@rxfit/core';

/** What a log holds about one run. */
export interface RunSummary {
  readonly runId: string;
  /** `seq` of its first and last logged events. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** How many events were logged. */
  readonly events: number;
  /** The epochs that ended (`epochEnd`), in order. */
  readonly epochs: readonly number[];
  /** `trainBegin` events: more than one means the run was resumed. */
  readonly starts: number;
  /** How it ended; `undefined` when the log stops before `trainEnd` (a crash, or still running). */
  readonly endReason: TrainEndReason | undefined;
  /** `time` of its first and last logged events (ms since the epoch). */
  readonly startTime: number;
  readonly endTime: number;
}

/**
 * The runs of a log, in order of first appearance: the fold behind `listRuns`. A log holds many
 * runs, so this summarises a log; it is not one run's decision (no `Decider`).
 *
 * ## Example
 * ```ts
 * summarizeRuns(events).map((run) => run.endReason);
 * ```
 * @param events - Logged events, in log order.
 * @returns One summary per run.
 */
export function summarizeRuns(events: Iterable<TrainingEvent>): RunSummary[] {
  const runs = new Map<string, RunSummary>();
  for (const event of events) {
    const summary: RunSummary = runs.get(event.runId) ?? {
      runId: event.runId,
      firstSeq: event.seq,
      lastSeq: event.seq,
      events: 0,
      epochs: [],
      starts: 0,
      endReason: undefined,
      startTime: event.time,
      endTime: event.time,
    };
    runs.set(event.runId, {
      ...summary,
      lastSeq: event.seq,
      events: summary.events + 1,
      epochs: event.type === 'epochEnd' ? [...summary.epochs, event.epoch] : summary.epochs,
      starts: summary.starts + (event.type === 'trainBegin' ? 1 : 0),
      // A resumed run starts again: only the last trainEnd counts.
      endReason:
        event.type === 'trainEnd'
          ? event.reason
          : event.type === 'trainBegin'
            ? undefined
            : summary.endReason,
      endTime: event.time,
    });
  }
  return [...runs.values()];
}

/** Where a replayed policy would have stopped the run. */
export interface StopDecision {
  readonly epoch: number;
  readonly batch?: number;
  readonly by: string;
  readonly reason: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What a simulated ("what if") run did. */
export interface WhatIfOutcome {
  /** The epoch where the policy asked to stop; `undefined` when it let the run finish. */
  readonly stoppedAt: number | undefined;
  /** The first stop request, with who asked and why. */
  readonly stop: StopDecision | undefined;
  /** How the simulated run ended. */
  readonly reason: TrainEndReason | undefined;
  /** The epochs the simulated run went through. */
  readonly epochs: readonly number[];
  /** The learning rate in force during each of those epochs (the `lr` of each `epochEnd`). */
  readonly learningRates: readonly number[];
  /** Every learning-rate change the policy made. */
  readonly learningRateChanges: readonly {
    readonly epoch: number;
    readonly from: number;
    readonly to: number;
    readonly by: string;
  }[];
}

const NO_OUTCOME: WhatIfOutcome = {
  stoppedAt: undefined,
  stop: undefined,
  reason: undefined,
  epochs: [],
  learningRates: [],
  learningRateChanges: [],
};

/**
 * What a simulated run did: the fold behind `simulate`, over the events of one simulated run.
 *
 * ## Example
 * ```ts
 * const { stoppedAt } = whatIfOutcome(simulatedEvents);
 * ```
 * @param events - The events of the simulated run.
 * @returns Where it stopped, why, and the learning rates it went through.
 */
export function whatIfOutcome(events: readonly TrainingEvent[]): WhatIfOutcome {
  return events.reduce(foldOutcome, NO_OUTCOME);
}

function foldOutcome(state: WhatIfOutcome, event: TrainingEvent): WhatIfOutcome {
  const next = state;
  switch (event.type) {
    case 'epochEnd':
      return {
        ...next,
        epochs: [...state.epochs, event.epoch],
        learningRates: [...state.learningRates, event.logs['lr'] ?? Number.NaN],
      };
    case 'stopRequested':
      if (state.stop) return next;
      return {
        ...next,
        stoppedAt: event.epoch,
        stop: {
          epoch: event.epoch,
          ...(event.batch === undefined ? {} : { batch: event.batch }),
          by: event.by,
          reason: event.reason,
          ...(event.details === undefined ? {} : { details: event.details }),
        },
      };
    case 'learningRateChanged':
      return {
        ...next,
        learningRateChanges: [
          ...state.learningRateChanges,
          { epoch: event.epoch, from: event.from, to: event.to, by: event.by },
        ],
      };
    case 'trainEnd':
      return { ...next, reason: event.reason };
    default:
      return next;
  }
}
