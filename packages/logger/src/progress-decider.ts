import type { Decider, Logs, TrainingEvent } from '@rxfit/core';
import {
  decisionMessage,
  formatBar,
  formatEta,
  formatLogs,
  formatTimePerUnit,
  pyFixed,
} from './format.js';

/** The progress bar's state for one run: pure data, replaced (never mutated) by each event. */
export interface ProgressState {
  /** `params.epochs` (the epoch to stop before), for the `Epoch 3/50` header. */
  readonly epochs: number | undefined;
  /** Steps per epoch: `params.stepsPerEpoch`, else learned from the first epoch (Keras). */
  readonly target: number | undefined;
  /** `time` of the epoch's `epochBegin`. */
  readonly epochStart: number | undefined;
  /** `time` of the epoch's first `batchEnd`: Keras leaves the first step out of the time per step. */
  readonly firstStepTime: number | undefined;
  /** Steps seen in this epoch (`batch + 1` of the last `batchEnd`). */
  readonly seen: number;
  /** Running sums `[Σ value·size, Σ size]` of the batch logs, in first-seen key order. */
  readonly sums: ReadonlyMap<string, readonly [number, number]>;
  /** `now` of the last live draw (the throttle). */
  readonly lastDraw: number | undefined;
  /** Width of the live bar line left open (no newline yet); 0 when none is open. */
  readonly openWidth: number;
  /** Value of the last checkpoint saved per monitor, for "improved from ... to ...". */
  readonly lastSaved: ReadonlyMap<string, number>;
}

/** How one event is rendered. */
interface RenderContext {
  /** Ms since the epoch, from the `now` port: only the throttle reads it. */
  readonly now: number;
  /** Draw the live bar (`\r` updates): a TTY and a live event. */
  readonly live: boolean;
  /** Print anything at all (false for replayed events unless `replay` is on). */
  readonly print: boolean;
  /** Minimum ms between two live draws. */
  readonly interval: number;
  /** Characters between the brackets. */
  readonly width: number;
}

/** The state after an event and the text to write for it (`''` for none). */
interface ProgressStep {
  readonly state: ProgressState;
  readonly text: string;
}

/** How the progress bar renders, fixed for the operator. */
export interface ProgressSettings {
  /** Minimum ms between two live draws. */
  readonly interval: number;
  /** Characters between the brackets. */
  readonly width: number;
  /** Draw the live bar (`\r` updates) for live events. */
  readonly isTTY: boolean;
  /** Print replayed events too. */
  readonly replay: boolean;
  /** The clock of the throttle, in ms: the decider's one input besides the events. */
  readonly now: () => number;
}

const INITIAL_STATE: ProgressState = {
  epochs: undefined,
  target: undefined,
  epochStart: undefined,
  firstStepTime: undefined,
  seen: 0,
  sums: new Map(),
  lastDraw: undefined,
  openWidth: 0,
  lastSaved: new Map(),
};

/**
 * Keras' `ProgbarLogger` + `Progbar` (tf.keras 2 layout) as a {@link Decider} whose commands are
 * the text to write. Every duration printed comes from event `time` fields, so a replayed log
 * renders the same; the clock is read only to throttle live redraws.
 *
 * ## Example
 * ```ts
 * const fold = decisionFold(progressDeciderOf({ interval: 100, width: 30, isTTY: true, replay: false, now: Date.now }));
 * for (const text of fold.next(event)) process.stdout.write(text);
 * ```
 * @param settings - How to render.
 * @returns The decider.
 * @internal
 */
export function progressDeciderOf(settings: ProgressSettings): Decider<ProgressState, string> {
  return {
    initialState: () => INITIAL_STATE,
    decide(state, event) {
      const replayed = event.replayed === true;
      const live = settings.isTTY && !replayed;
      const { state: next, text } = reduceProgress(state, event, {
        now: live ? settings.now() : 0,
        live,
        print: !replayed || settings.replay,
        interval: settings.interval,
        width: settings.width,
      });
      return { state: next, commands: text === '' ? [] : [text] };
    },
  };
}

/** One event rendered with its context: the next state and the text (`''` for none). */
function reduceProgress(
  state: ProgressState,
  event: TrainingEvent,
  context: RenderContext,
): ProgressStep {
  switch (event.type) {
    case 'trainBegin': {
      // A backend that names its device (webgpu: the adapter, and whether it is software) is
      // said once, so a run on a software GPU is never mistaken for a fast one.
      const backend = event.params.backend;
      const device =
        backend?.includes(' on ') === true && context.print ? `Training on ${backend}\n` : '';
      return {
        state: {
          ...state,
          epochs: event.params.epochs,
          target: event.params.stepsPerEpoch ?? state.target,
        },
        text: device,
      };
    }
    case 'epochBegin': {
      const next: ProgressState = {
        ...state,
        epochStart: event.time,
        firstStepTime: undefined,
        seen: 0,
        sums: new Map(),
        lastDraw: undefined,
        openWidth: 0,
      };
      const header =
        state.epochs !== undefined && state.epochs > 1
          ? `Epoch ${event.epoch + 1}/${state.epochs}\n`
          : '';
      return {
        state: next,
        text: context.print ? closeLine(state) + header : '',
      };
    }
    case 'batchEnd':
      return batchEnd(state, event.batch, event.logs, event.time, context);
    case 'epochEnd':
      return epochEnd(state, event.logs, event.time, context);
    case 'trainEnd': {
      const message = decisionMessage(event);
      const text = context.print
        ? closeLine(state) + (message === undefined ? '' : `${message}\n`)
        : '';
      return { state: { ...state, openWidth: 0 }, text };
    }
    case 'checkpointSaved': {
      // Maps: a monitor or log key named `__proto__` or `constructor` is a plain key.
      const previous = event.monitor === undefined ? undefined : state.lastSaved.get(event.monitor);
      const lastSaved =
        event.monitor !== undefined && event.value !== undefined
          ? new Map(state.lastSaved).set(event.monitor, event.value)
          : state.lastSaved;
      return printDecision({ ...state, lastSaved }, decisionMessage(event, previous), context);
    }
    default:
      return printDecision(state, decisionMessage(event), context);
  }
}

/**
 * Text that ends a live bar line left open, so a message starts on its own line.
 *
 * ## Example
 * ```ts
 * write(closeLine(state)); // a newline while a bar is drawn, else ''
 * ```
 * @param state - The current state.
 * @returns A newline or `''`.
 * @internal
 */
export function closeLine(state: ProgressState): string {
  return state.openWidth > 0 ? '\n' : '';
}

function printDecision(
  state: ProgressState,
  message: string | undefined,
  context: RenderContext,
): ProgressStep {
  if (message === undefined || !context.print) return { state, text: '' };
  // The bar is redrawn on a fresh line at the next update.
  return {
    state: { ...state, openWidth: 0, lastDraw: undefined },
    text: `${closeLine(state)}${message}\n`,
  };
}

function batchEnd(
  state: ProgressState,
  batch: number,
  logs: Logs,
  time: number,
  context: RenderContext,
): ProgressStep {
  const size = logs['size'] ?? 1;
  const sums = new Map(state.sums);
  for (const [key, value] of Object.entries(logs)) {
    if (key === 'size' || key === 'batch') continue;
    const [total, weight] = sums.get(key) ?? [0, 0];
    sums.set(key, [total + value * size, weight + size]);
  }
  const seen = batch + 1;
  const firstStepTime = batch === 0 ? time : state.firstStepTime;
  const next: ProgressState = { ...state, sums, seen, firstStepTime };
  if (!context.live || !context.print) return { state: next, text: '' };
  if (state.lastDraw !== undefined && context.now - state.lastDraw < context.interval)
    return { state: next, text: '' };

  const bar = formatBar(seen, state.target, context.width);
  const perStep = timePerStep(next, seen, time);
  let info: string;
  if (state.target === undefined) {
    info = ` - ${elapsedSeconds(next, time)}s${formatTimePerUnit(perStep)}`;
  } else {
    info = ` - ETA: ${formatEta(perStep * Math.max(0, state.target - seen))}`;
  }
  info += formatLogs(runningMeans(sums));
  const line = bar + info;
  const pad = ' '.repeat(Math.max(0, state.openWidth - line.length));
  return {
    state: { ...next, lastDraw: context.now, openWidth: line.length },
    text: `\r${line}${pad}`,
  };
}

function epochEnd(
  state: ProgressState,
  logs: Logs,
  time: number,
  context: RenderContext,
): ProgressStep {
  // Keras learns an unknown target from the first epoch and keeps it.
  const target = state.target ?? state.seen;
  // Keras shows target/target even for an epoch stopped early; we show the steps really run.
  const current = state.seen > 0 ? state.seen : target;
  const next: ProgressState = {
    ...state,
    target,
    openWidth: 0,
    lastDraw: undefined,
  };
  if (!context.print) return { state: next, text: '' };
  const line =
    formatBar(current, target, context.width) +
    ` - ${elapsedSeconds(state, time)}s` +
    formatTimePerUnit(timePerStep(state, current, time)) +
    formatLogs(logs);
  if (context.live && state.openWidth > 0) {
    const pad = ' '.repeat(Math.max(0, state.openWidth - line.length));
    return { state: next, text: `\r${line}${pad}\n` };
  }
  return { state: next, text: `${line}\n` };
}

/** Keras' `_estimate_step_duration`, in seconds: the first step (warm-up) is left out when possible. */
function timePerStep(state: ProgressState, current: number, time: number): number {
  if (current <= 0) return 0;
  if (state.firstStepTime !== undefined && current > 1)
    return (time - state.firstStepTime) / 1000 / (current - 1);
  return (time - (state.epochStart ?? time)) / 1000 / current;
}

function elapsedSeconds(state: ProgressState, time: number): string {
  return pyFixed((time - (state.epochStart ?? time)) / 1000, 0);
}

function runningMeans(sums: ReadonlyMap<string, readonly [number, number]>): Logs {
  // fromEntries defines each key, `__proto__` included, as a plain property.
  return Object.fromEntries(
    [...sums].map(([key, [total, weight]]) => [key, total / Math.max(1, weight)]),
  );
}
