import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { HookResult } from './callback.js';
import { controlOf, failRun, type RunControl } from './control.js';
import { WARNING_EVENT, type EventOfType, type TrainingEvent } from './events.js';
import { checkInteger, checkOneOf, checkOptions } from './validate.js';

/**
 * How a sink keeps up with the run: `lossless` handles every event in order and makes the loop
 * wait when it falls more than `bound` events behind; `latest` (UIs, dashboards) lets pending
 * batch events be replaced by newer ones and never makes a training step wait for a handler.
 */
export type SinkMode = 'lossless' | 'latest';

/** The modes a sink accepts. */
export const SINK_MODES: readonly SinkMode[] = Object.freeze(['lossless', 'latest']);

/**
 * A sink's handler for one event type. `control` is the run's control for a live event and
 * `undefined` for a replayed one (`event.replayed === true`): skip it or re-project it, but give
 * no commands. A handler runs after the event went through every operator, off the training
 * step: a command it gives (`stop`, `warn`) is emitted when given, not right after its event.
 */
export type SinkHandler<E extends TrainingEvent = TrainingEvent> = (
  event: E,
  control: RunControl | undefined,
) => HookResult;

/** What a sink does with events: one optional handler per event type, `onEvent`, and `flush`. */
export interface SinkHandlers {
  readonly onTrainBegin?: SinkHandler<EventOfType<'trainBegin'>>;
  readonly onEpochBegin?: SinkHandler<EventOfType<'epochBegin'>>;
  readonly onBatchBegin?: SinkHandler<EventOfType<'batchBegin'>>;
  readonly onBatchEnd?: SinkHandler<EventOfType<'batchEnd'>>;
  readonly onEpochEnd?: SinkHandler<EventOfType<'epochEnd'>>;
  readonly onTrainEnding?: SinkHandler<EventOfType<'trainEnding'>>;
  readonly onTrainEnd?: SinkHandler<EventOfType<'trainEnd'>>;
  readonly onStopRequested?: SinkHandler<EventOfType<'stopRequested'>>;
  readonly onLearningRateChanged?: SinkHandler<EventOfType<'learningRateChanged'>>;
  readonly onCheckpointSaved?: SinkHandler<EventOfType<'checkpointSaved'>>;
  readonly onCustom?: SinkHandler<EventOfType<'custom'>>;
  /** Every event the sink receives, after the event type's own handler. */
  readonly onEvent?: SinkHandler;
  /**
   * Called once the handlers before it finished: after those of a `trainEnd`, and when the
   * stream ends with events queued since the last flush (a replayed log of a crashed run). Close
   * files, send what is batched. No event can follow `trainEnd`: a warning given from here (or
   * from `onTrainEnd`) is printed to stderr instead (`process.emitWarning`, `RxfitWarning`).
   */
  readonly flush?: () => HookResult;
}

/** Options of {@link sink}. */
export interface SinkOptions {
  /** Names the sink in errors, warnings (`by`) and `stopRequested` events it causes. */
  readonly name: string;
  /** See {@link SinkMode}. */
  readonly mode: SinkMode;
  /**
   * `lossless` only: how many events may wait for the handlers before the loop waits for them
   * to catch up (backpressure). @default 100
   */
  readonly bound?: number;
  /**
   * A handler error becomes a warning event (`control.warn`, `by: name`) and the sink goes on,
   * instead of failing the run; on a replay, which has no control, a `process.emitWarning`
   * (type `RxfitSinkWarning`). @default false
   */
  readonly bestEffort?: boolean;
}

/** The handler of each event type. */
const HOOKS = {
  trainBegin: 'onTrainBegin',
  epochBegin: 'onEpochBegin',
  batchBegin: 'onBatchBegin',
  batchEnd: 'onBatchEnd',
  epochEnd: 'onEpochEnd',
  trainEnding: 'onTrainEnding',
  trainEnd: 'onTrainEnd',
  stopRequested: 'onStopRequested',
  learningRateChanged: 'onLearningRateChanged',
  checkpointSaved: 'onCheckpointSaved',
  custom: 'onCustom',
} as const satisfies Record<TrainingEvent['type'], keyof SinkHandlers>;

const HANDLER_NAMES: readonly string[] = [...Object.values(HOOKS), 'onEvent', 'flush'];

/** The queue's marker for a call to `flush`. */
const FLUSH = Symbol('flush');

/** An event waiting for the handlers, with the control it carried when it was delivered. */
interface Queued {
  readonly event: TrainingEvent;
  readonly control: RunControl | undefined;
}

type Item = Queued | typeof FLUSH;


/**
 * Turns side-effecting handlers (post to a dashboard, notify a chat, write a file) into an
 * operator that passes every event through synchronously and unchanged, and runs the handlers
 * off the training step, one at a time, in event order.
 *
 * - `lossless`: every event reaches the handlers. The loop waits only when more than `bound`
 *   events are pending (backpressure) and at `trainEnd`, until the handlers and `flush` finished.
 * - `latest`: a pending `batchBegin`/`batchEnd` is replaced by a newer one of its type; every
 *   other event (epochs, stops, learning-rate changes, checkpoints, custom events) is kept. No
 *   training step waits for a handler; `trainEnd` waits for the pending ones and `flush`.
 *
 * The fit loop lets timers and sockets run every 25 ms; while a sink's handlers are busy it
 * yields one turn of the event loop per event (`setImmediate`), so a handler waiting on the
 * network or a timer progresses at the pace of the events. A handler error fails the run
 * with the sink's name in the message (`bestEffort`: a warning instead). Replayed events reach
 * the handlers as they are (`replayed: true`, no control); the operator then completes once the
 * handlers finished. A sink does not receive the warnings it emits itself.
 *
 * ## Example
 * ```ts
 * import { fit, sink } from '@rxfit/core';
 * const dashboard = sink(
 *   { onEpochEnd: (e) => fetch(url, { method: 'POST', body: JSON.stringify(e) }) },
 *   { name: 'dashboard', mode: 'latest', bestEffort: true },
 * );
 * await lastValueFrom(fit(model, data, { epochs: 10 }).pipe(dashboard));
 * ```
 * @param handlers - The handlers, or a function that makes them for each subscription (a run),
 *   so state such as an open file or the best value so far is per run.
 * @param options - See {@link SinkOptions}.
 * @returns An operator that passes events through and feeds them to the handlers.
 * @throws TypeError/RangeError at call time for bad options or handlers (a handlers function's
 *   result is checked when a run subscribes, and fails that run).
 */
export function sink(
  handlers: SinkHandlers | (() => SinkHandlers),
  options: SinkOptions,
): MonoTypeOperatorFunction<TrainingEvent> {
  const { name, mode, bound = 100, bestEffort = false } = checkSinkOptions(options);
  if (typeof handlers !== 'function') checkHandlers(name, handlers);

  return (source) =>
    new Observable<TrainingEvent>((subscriber) => {
      let hooks: SinkHandlers;
      try {
        hooks = typeof handlers === 'function' ? handlers() : handlers;
        checkHandlers(name, hooks);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const queue: Item[] = [];
      /** The worker runs (or is scheduled): a handler may be in flight. */
      let busy = false;
      /** Unsubscribed, or failed: no handler is called any more. */
      let stopped = false;
      /** Events were queued since the last flush. */
      let unflushed = false;
      let sourceEnded = false;
      let lastControl: RunControl | undefined;
      /** A failure found after the source ended: reported when the operator ends. */
      let lateFailure: Error | undefined;
      const waiters = new Set<{ ready: () => boolean; resolve: () => void }>();

      const wake = (): void => {
        for (const waiter of waiters) {
          if (stopped || waiter.ready()) {
            waiters.delete(waiter);
            waiter.resolve();
          }
        }
      };
      const until = (ready: () => boolean): Promise<void> =>
        stopped || ready()
          ? Promise.resolve()
          : new Promise((resolve) => waiters.add({ ready, resolve }));
      const idle = (): boolean => queue.length === 0 && !busy;

      const fail = (error: unknown, hook: string, event: TrainingEvent | undefined): void => {
        const message = `sink '${name}': ${hook} failed${event ? ` on ${describe(event)}` : ''}: ${messageOf(error)}`;
        const control = sourceEnded ? undefined : lastControl;
        if (bestEffort) {
          if (control) control.warn(message, { by: name });
          else process.emitWarning(message, 'RxfitSinkWarning');
          return;
        }
        const failure = new Error(message, { cause: error });
        stopped = true;
        queue.length = 0;
        if (control) failRun(control, failure);
        else if (sourceEnded) lateFailure ??= failure;
        else subscriber.error(failure);
        wake();
      };

      const call = async (
        hook: string,
        event: TrainingEvent | undefined,
        run: () => HookResult,
      ): Promise<void> => {
        try {
          await run();
        } catch (error) {
          fail(error, hook, event);
        }
      };

      const deliver = async ({ event, control }: Queued): Promise<void> => {
        const hook = HOOKS[event.type];
        const own = hooks[hook] as SinkHandler | undefined;
        if (own) await call(hook, event, () => own(event, control));
        const any = hooks.onEvent;
        if (any && !stopped) await call('onEvent', event, () => any(event, control));
      };

      const work = async (): Promise<void> => {
        try {
          for (let item = queue.shift(); item !== undefined && !stopped; item = queue.shift()) {
            wake(); // the queue shrank: a backpressure wait may be over
            if (item === FLUSH) {
              const flush = hooks.flush;
              if (flush) await call('flush', undefined, () => flush());
            } else {
              await deliver(item);
            }
          }
        } finally {
          busy = false;
          wake();
        }
      };
      const kick = (): void => {
        if (busy || stopped || queue.length === 0) return;
        busy = true;
        // A microtask later: the handler runs after the event went through every operator,
        // never inside the emission (a command it gives is not re-entrant).
        void Promise.resolve().then(work);
      };

      const wants = (event: TrainingEvent): boolean => {
        if (
          event.type === 'custom' &&
          event.name === WARNING_EVENT &&
          (event.data as { by?: unknown } | null)?.by === name
        ) {
          return false; // its own warning: a failing sink would otherwise feed on its warnings
        }
        return hooks.onEvent !== undefined || hooks[HOOKS[event.type]] !== undefined;
      };

      const enqueue = (event: TrainingEvent, control: RunControl | undefined): void => {
        if (stopped) return;
        if (wants(event)) {
          if (mode === 'latest' && (event.type === 'batchBegin' || event.type === 'batchEnd')) {
            const index = queue.findIndex((item) => item !== FLUSH && item.event.type === event.type);
            if (index >= 0) queue.splice(index, 1);
          }
          queue.push({ event, control });
          unflushed = true;
        }
        if (event.type === 'trainEnd' && hooks.flush) {
          queue.push(FLUSH);
          unflushed = false;
        }
        kick();
      };

      const end = (finish: () => void): void => {
        sourceEnded = true;
        if (!stopped && unflushed && hooks.flush) {
          queue.push(FLUSH);
          unflushed = false;
          kick();
        }
        void until(idle).then(() => {
          if (lateFailure) subscriber.error(lateFailure);
          else finish();
        });
      };

      const subscription = source.subscribe({
        next: (event) => {
          const control = controlOf(event, `sink '${name}'`);
          if (control) lastControl = control;
          enqueue(event, control);
          if (control && !stopped) {
            if (event.type === 'trainEnd') control.defer(until(idle));
            else if (mode === 'lossless' && queue.length > bound)
              control.defer(until(() => queue.length <= bound));
            else if (!idle()) control.defer(nextTurn());
          }
          subscriber.next(event);
        },
        error: (error: unknown) => end(() => subscriber.error(error)),
        complete: () => end(() => subscriber.complete()),
      });
      return () => {
        stopped = true;
        queue.length = 0;
        wake();
        subscription.unsubscribe();
      };
    });
}

/** One turn of the event loop: due timers and socket callbacks run meanwhile. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function describe(event: TrainingEvent): string {
  const where =
    'batch' in event && event.batch !== undefined
      ? `epoch ${event.epoch}, batch ${event.batch}`
      : 'epoch' in event
        ? `epoch ${event.epoch}`
        : '';
  return `${event.type}${where ? ` at ${where}` : ''} (seq ${event.seq}${event.replayed ? ', replayed' : ''})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkSinkOptions(options: SinkOptions): SinkOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `sink: options must be an object with name and mode, got ${String(options)}`,
    );
  }
  checkOptions('sink', options, ['name', 'mode', 'bound', 'bestEffort']);
  const { name, mode, bound, bestEffort } = options;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new TypeError(`sink: name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  checkOneOf(`sink '${name}'`, 'mode', mode, SINK_MODES);
  if (bound !== undefined) {
    if (mode !== 'lossless')
      throw new TypeError(
        `sink '${name}': bound applies to mode 'lossless' only, got mode '${mode}'`,
      );
    checkInteger(`sink '${name}'`, 'bound', bound, 1);
  }
  if (bestEffort !== undefined && typeof bestEffort !== 'boolean') {
    throw new TypeError(`sink '${name}': bestEffort must be a boolean, got ${String(bestEffort)}`);
  }
  return options;
}

function checkHandlers(name: string, handlers: unknown): asserts handlers is SinkHandlers {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new TypeError(
      `sink '${name}': handlers must be an object of functions (or a function returning one), got ${String(handlers)}`,
    );
  }
  const entries = Object.entries(handlers);
  for (const [key, value] of entries) {
    if (!HANDLER_NAMES.includes(key)) {
      throw new TypeError(
        `sink '${name}': unknown handler ${key}; the handlers are ${HANDLER_NAMES.join(', ')}`,
      );
    }
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`sink '${name}': ${key} must be a function, got ${typeof value}`);
    }
  }
  if (!entries.some(([, value]) => typeof value === 'function')) {
    throw new TypeError(`sink '${name}': give at least one handler (${HANDLER_NAMES.join(', ')})`);
  }
}
