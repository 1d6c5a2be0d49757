import type { Logs, TrainingEvent, TrainingEventBody } from '@rxfit/core';
import {
  earlyStoppingConfig,
  initialState,
  reduce,
  type EarlyStoppingDecision,
  type EarlyStoppingOptions,
  type EarlyStoppingState,
} from '@rxfit/early-stopping';

/** A frozen event as the loops make them, optionally marked as replayed. */
export function makeEvent(
  body: TrainingEventBody,
  seq: number,
  options: { runId?: string; replayed?: boolean } = {},
): TrainingEvent {
  return Object.freeze({
    ...body,
    runId: options.runId ?? 'run',
    seq,
    time: 0,
    ...(options.replayed ? { replayed: true as const } : {}),
  });
}

/** The events of a run whose epochs end with `logs`, without batches (what the reducer reads). */
export function epochEvents(
  logs: readonly Logs[],
  options: { runId?: string; replayed?: boolean; initialEpoch?: number } = {},
): TrainingEvent[] {
  const initialEpoch = options.initialEpoch ?? 0;
  const events: TrainingEvent[] = [
    makeEvent(
      {
        type: 'trainBegin',
        params: { epochs: logs.length, initialEpoch, metrics: Object.keys(logs[0] ?? {}) },
      },
      0,
      options,
    ),
  ];
  for (let epoch = initialEpoch; epoch < logs.length; epoch++) {
    events.push(makeEvent({ type: 'epochEnd', epoch, logs: logs[epoch]! }, events.length, options));
  }
  return events;
}

/** What the reducer makes of a run, Keras-test style: feed epochs until the first stop. */
export interface ReducerRun {
  /** The epoch of the first stop decision, or undefined. */
  readonly stoppedEpoch: number | undefined;
  /** Epochs fed (the loop breaks after a stop, as Keras' tests do). */
  readonly epochsRun: number;
  readonly state: EarlyStoppingState;
  readonly decisions: readonly EarlyStoppingDecision[];
}

/** Feeds `values` of `monitor` (undefined = missing from the logs) through the reducer. */
export function runReducer(
  options: EarlyStoppingOptions,
  values: readonly (number | undefined)[],
): ReducerRun {
  const monitor = options.monitor ?? 'val_loss';
  const logs = values.map((v): Logs => (v === undefined ? { other: 1 } : { [monitor]: v }));
  let state = initialState(earlyStoppingConfig(options));
  const decisions: EarlyStoppingDecision[] = [];
  let epochsRun = 0;
  for (const event of epochEvents(logs)) {
    const step = reduce(state, event);
    state = step.state;
    decisions.push(...step.decisions);
    if (event.type === 'epochEnd') epochsRun++;
    if (step.decisions.some((d) => d.kind === 'stop')) break;
  }
  return { stoppedEpoch: state.stoppedEpoch, epochsRun, state, decisions };
}
