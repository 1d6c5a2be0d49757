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
   * tensors. A `trainBegin` reaches it either on the initial state (a new run) or on the state
   * rebuilt so far (the live continuation of a replayed run: a resume).
   */
  decide(state: State, event: TrainingEvent): Decision<State, Command>;
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
 * Folds events through a decider with **the one run rule**: the state belongs to one run (a
 * `runId`). An event of another run starts from `initialState()`, as Keras resets a callback in
 * `on_train_begin`; events of the same run carry on, so a resumed run's live `trainBegin`, after
 * its replayed log (which may itself hold a `trainBegin` per earlier start), continues the state
 * the replay rebuilt. Live and replayed events go through the same `decide`.
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
  return {
    get state() {
      return state;
    },
    get runId() {
      return runId;
    },
    next(event) {
      if (runId !== undefined && event.runId !== runId) state = decider.initialState();
      runId = event.runId;
      const decision = decider.decide(state, event);
      state = decision.state;
      return decision.commands;
    },
  };
}
