import { decisionFold, type Logs, type TrainingEvent, type TrainingEventBody } from '@rxfit/core';
import {
  earlyStoppingDecider,
  type EarlyStoppingCommand,
  type EarlyStoppingOptions,
  type EarlyStoppingState,
} from '@rxfit/early-stopping';

/** The losses of Keras' early_stopping_test.py::test_early_stopping_patience. */
export const KERAS_LOSSES: readonly number[] = [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6, 8.5];

/** That test's expectation on {@link KERAS_LOSSES}: [patience, stopped epoch = max(patience, 1) + 2]. */
export const KERAS_PATIENCE_STOPS = [
  [0, 3],
  [1, 3],
  [2, 4],
  [3, 5],
] as const;

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

/** What the decider makes of a run, Keras-test style: feed epochs until the first stop. */
export interface DeciderRun {
  /** The epoch of the first stop command, or undefined. */
  readonly stoppedEpoch: number | undefined;
  /** Epochs fed (the loop breaks after a stop, as Keras' tests do). */
  readonly epochsRun: number;
  readonly state: EarlyStoppingState;
  readonly commands: readonly EarlyStoppingCommand[];
}

/** Feeds `values` of `monitor` (undefined = missing from the logs) through the decider. */
export function runDecider(
  options: EarlyStoppingOptions,
  values: readonly (number | undefined)[],
): DeciderRun {
  const monitor = options.monitor ?? 'val_loss';
  const logs = values.map((v): Logs => (v === undefined ? { other: 1 } : { [monitor]: v }));
  const fold = decisionFold(earlyStoppingDecider(options));
  const commands: EarlyStoppingCommand[] = [];
  let epochsRun = 0;
  for (const event of epochEvents(logs)) {
    const step = fold.next(event);
    commands.push(...step);
    if (event.type === 'epochEnd') epochsRun++;
    if (step.some((d) => d.kind === 'stop')) break;
  }
  const { state } = fold;
  return { stoppedEpoch: state.stoppedEpoch, epochsRun, state, commands };
}
