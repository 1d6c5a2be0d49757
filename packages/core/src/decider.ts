import type { TrainingEvent } from './events.js';

/**
 * The contract of every decision package (early stopping, checkpoint, ReduceLROnPlateau, CSV
 * logger, TerminateOnNaN, TensorBoard, the learning-rate finder, the plot, the progress bar): what
 * the package knows of a run, and what it decides, as a pure fold. The operator around it holds
 * the state through {@link decisionFold} and carries the commands out on live events; a what-if
 * folds recorded events through the same code.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { earlyStoppingDecider } from '@rxfit/early-stopping';
 * const fold = decisionFold(earlyStoppingDecider({ monitor: 'val_loss', patience: 10 }));
 * for (const event of recordedEvents) fold.next(event);
 * console.log(fold.state.stoppedEpoch); // where patience 10 would have stopped this run
 * ```
 */
export interface Decider<State, Command> {
  /** The state before a run's first event (what Keras resets in `on_train_begin`). */
  initialState(): State;
  /**
   * Folds one event, live or replayed, into the state and says what to do. Pure: no I/O, no
   * tensors. A `trainBegin` reaches it either on the state a new run starts from (see
   * {@link Decider.nextRun}) or on the state rebuilt so far (the live continuation of a
   * replayed run, a resume; or a replayed `trainBegin` of a log resumed before).
   */
  decide(state: State, event: TrainingEvent): Decision<State, Command>;
  /**
   * The state a new run starts from, given the last run's: `initialState()` when absent, as
   * Keras resets a callback in `on_train_begin`. A decider whose Keras callback keeps state
   * across `fit` calls (ModelCheckpoint's `best`) returns what it keeps.
   */
  nextRun?(previous: State): State;
}

/** What {@link Decider.decide} returns: the next state, and the commands in the order to carry them out. */
export interface Decision<State, Command> {
  readonly state: State;
  readonly commands: readonly Command[];
}

/** A {@link Decider}'s state through a stream of events, one run at a time. */
export interface DecisionFold<State, Command> {
  /** The state after the last event. */
  readonly state: State;
  /** The run the state belongs to; `undefined` before the first event. */
  readonly runId: string | undefined;
  /** Folds the next event and returns the commands it implies. */
  next(event: TrainingEvent): readonly Command[];
}

/**
 * Folds events through a decider with **the one run rule**: the state belongs to one run. A new
 * run starts from `nextRun(previous)` (by default `initialState()`, as Keras resets a callback in
 * `on_train_begin`); a new run is an event of another `runId`, or a live `trainBegin` after a
 * live `trainBegin` of the same id (a run started again under a reused id). Everything else
 * carries on: replayed events, the replayed `trainBegin`s of a log resumed before, and the live
 * `trainBegin` that follows a run's replayed log (a resume) continue the state the replay
 * rebuilt. Live and replayed events go through the same `decide`.
 *
 * ## Example
 * ```ts
 * const fold = decisionFold(decider);
 * source.pipe(tap((event) => { for (const command of fold.next(event)) apply(command, event); }));
 * ```
 * @param decider - The decision to fold.
 * @returns A fold holding the state of the current run.
 */
export function decisionFold<State, Command>(
  decider: Decider<State, Command>,
): DecisionFold<State, Command> {
  let state = decider.initialState();
  let runId: string | undefined;
  // Whether this run has had its live trainBegin: a second one starts the run again.
  let begunLive = false;
  const startRun = (id: string): void => {
    state = decider.nextRun ? decider.nextRun(state) : decider.initialState();
    runId = id;
    begunLive = false;
  };
  return {
    get state() {
      return state;
    },
    get runId() {
      return runId;
    },
    next(event) {
      if (runId === undefined) runId = event.runId;
      else if (event.runId !== runId) startRun(event.runId);
      if (event.type === 'trainBegin' && event.replayed !== true) {
        if (begunLive) startRun(event.runId);
        begunLive = true;
      }
      const decision = decider.decide(state, event);
      state = decision.state;
      return decision.commands;
    },
  };
}
