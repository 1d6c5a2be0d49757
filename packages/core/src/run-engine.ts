import type { Subscriber } from 'rxjs';
import type { LayersModel } from '@tensorflow/tfjs';
import { ControlError, withControl, type CommandOptions, type ControlLink, type RunControl, type StopOptions } from './control.js';
import { WARNING_EVENT, type TrainingEvent, type TrainingEventBody } from './events.js';

/** The longest the loop holds the thread before it lets timers and I/O run (ms). */
const YIELD_EVERY_MS = 25;

/** How the engine reads and changes the learning rate of what it trains. */
export interface LearningRatePort {
  get(): number;
  set(lr: number): void;
}

/** Options of {@link RunEngine}. */
export interface RunEngineOptions {
  readonly runId: string;
  /** The `seq` of the first event; a resumed run continues its log's numbering. @default 0 */
  readonly firstSeq?: number;
  readonly model: LayersModel | undefined;
  readonly learningRate: LearningRatePort;
  readonly now?: () => number;
  /**
   * Print a warning event that no logger in the pipe reported (`process.emitWarning`, type
   * `RxfitWarning`), once per distinct warning. @default true
   */
  readonly printWarnings?: boolean;
}

/** How long a failed run waits for deferred work (a checkpoint write in flight) before it errors. */
export const FAILURE_SETTLE_BOUND_MS = 10_000;

/**
 * The machinery shared by {@link fit} and `scriptedRun`: numbers and freezes events, attaches
 * the run's control to them, turns commands into events, and collects deferred work.
 *
 * Commands given while an event travels down the operators are queued and emitted right after
 * it (a queue against re-entrancy, as redux-observable's epic middleware), so every operator
 * sees events in `seq` order.
 */
export class RunEngine {
  readonly control: RunControl;
  /** Where the loop is, for the commands' events. */
  epoch = 0;
  batch: number | undefined = undefined;
  private nextSeq: number;
  private emitting = false;
  private readonly queue: TrainingEventBody[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private deferredError: { error: unknown } | undefined;
  private stopRequested = false;
  /** `trainEnd` was emitted: no command may add an event after it. */
  private ended = false;
  private closed = false;
  /** The `seq` of the event being delivered now, while the loop delivers one. */
  private delivering: number | undefined;
  private readonly reportedWarnings = new Set<number>();
  private readonly printedWarnings = new Set<string>();
  private readonly link: ControlLink;
  private lastYield = performance.now();

  constructor(
    private readonly subscriber: Subscriber<TrainingEvent>,
    private readonly options: RunEngineOptions,
  ) {
    this.nextSeq = options.firstSeq ?? 0;
    this.control = this.makeControl();
    this.link = Object.freeze({
      control: this.control,
      status: (seq: number) => (this.closed ? 'over' : this.delivering === seq ? 'delivering' : 'late'),
      reportWarning: (seq: number) => void this.reportedWarnings.add(seq),
    });
  }

  /** Whether an operator asked the run to stop. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Emits an event now, then every command it caused, in order. */
  emit(body: TrainingEventBody): void {
    this.refuseAfterEnd(body.type);
    this.queue.push(body);
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const stamped = { ...next, runId: this.options.runId, seq: this.nextSeq++, time: (this.options.now ?? Date.now)() };
        const event = deepFreeze(this.closed ? stamped : withControl(stamped, this.link)) as TrainingEvent;
        if (event.type === 'trainEnd') this.ended = true;
        this.delivering = event.seq;
        try {
          this.subscriber.next(event);
        } finally {
          this.delivering = undefined;
        }
        this.printIfUnreported(event);
      }
    } finally {
      this.emitting = false;
    }
  }

  /** `trainEnd` is the last event of a run: a command that would add one after it is an error. */
  private refuseAfterEnd(type: string): void {
    if (!this.ended) return;
    throw new ControlError(
      `run ${this.options.runId} has ended (trainEnd was emitted): a ${type} event cannot follow it; ` +
        'act at trainEnding, which comes right before trainEnd',
    );
  }

  /** A warning no logger showed reaches stderr once, so a pipe without a logger still says it. */
  private printIfUnreported(event: TrainingEvent): void {
    if (event.type !== 'custom' || event.name !== WARNING_EVENT) return;
    if (this.reportedWarnings.delete(event.seq)) return;
    const { by, message } = event.data as { by: string; message: string };
    this.printWarning(by, message);
  }

  private printWarning(by: string, message: string): void {
    if (this.options.printWarnings === false) return;
    const text = `${by}: ${message}`;
    if (this.printedWarnings.has(text)) return;
    this.printedWarnings.add(text);
    process.emitWarning(text, { type: 'RxfitWarning' });
  }

  /**
   * Waits until every deferred promise settled, including those deferred meanwhile.
   * @throws the first error a deferred promise rejected with.
   */
  async settle(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
    if (this.deferredError) throw this.deferredError.error;
  }

  /**
   * Lets timers, I/O callbacks and worker messages run when the loop has held the thread for a
   * while. A step whose awaits all resolve at once (in-memory data on a synchronous backend)
   * would otherwise starve them until the run ends: no timeouts, no network replies, no abort
   * by `AbortSignal.timeout`. tfjs' `model.fit` yields the same way (`yieldEvery: 'auto'`).
   */
  async yieldToEventLoop(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }

  /**
   * On failure: waits for deferred work (a checkpoint write in flight) to settle, at most
   * {@link FAILURE_SETTLE_BOUND_MS}, so the run errors after its side effects ended.
   */
  async settleBounded(boundMs = FAILURE_SETTLE_BOUND_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs)));
    try {
      await Promise.race([this.settle().catch(() => undefined), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the control: later events carry none, and `defer` throws. */
  close(): void {
    this.closed = true;
  }

  private makeControl(): RunControl {
    // Arrow functions keep `this` bound to the engine inside the control's methods.
    const by = (options?: CommandOptions): string => options?.by ?? 'user';
    const readRate = () => this.options.learningRate.get();
    const isStopping = () => this.stopRequested;
    const control: RunControl = {
      runId: this.options.runId,
      model: this.options.model,
      get learningRate() {
        return readRate();
      },
      get stopping() {
        return isStopping();
      },
      stop: (reason: string, options?: StopOptions) => {
        if (this.stopRequested || this.ended) return;
        this.stopRequested = true;
        this.emit({
          type: 'stopRequested',
          epoch: this.epoch,
          ...(this.batch === undefined ? {} : { batch: this.batch }),
          by: by(options),
          reason,
          ...(options?.details ? { details: options.details } : {}),
        });
      },
      setLearningRate: (lr: number, options?: CommandOptions) => {
        if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
          throw new RangeError(
            `setLearningRate: the learning rate must be a finite number >= 0, got ${String(lr)} (from ${by(options)})`,
          );
        }
        this.refuseAfterEnd('learningRateChanged');
        const from = readRate();
        if (from === lr) return;
        this.options.learningRate.set(lr);
        this.emit({ type: 'learningRateChanged', epoch: this.epoch, from, to: lr, by: by(options) });
      },
      emit: (name: string, data: unknown) => {
        this.emit({ type: 'custom', epoch: this.epoch, name, data });
      },
      checkpointSaved: (saved) => {
        this.emit({
          type: 'checkpointSaved',
          epoch: this.epoch,
          ...(this.batch === undefined ? {} : { batch: this.batch }),
          path: saved.path,
          ...(saved.monitor === undefined ? {} : { monitor: saved.monitor }),
          ...(saved.value === undefined ? {} : { value: saved.value }),
        });
      },
      warn: (message: string, options?: CommandOptions) => {
        // After trainEnd no event may follow: the warning still reaches a person.
        if (this.ended) this.printWarning(by(options), message);
        else control.emit(WARNING_EVENT, { by: by(options), message });
      },
      defer: (work: Promise<unknown>) => {
        if (this.closed) {
          // Nothing waits for it any more: dropping it would lose its failure without a word.
          throw new ControlError(
            `defer: run ${this.options.runId} has ended; work deferred now would not be awaited (defer while handling a live event, before the run completes)`,
          );
        }
        const tracked = work.then(
          () => undefined,
          (error: unknown) => {
            this.deferredError ??= { error };
          },
        );
        this.pending.add(tracked);
        void tracked.finally(() => this.pending.delete(tracked));
      },
    };
    return control;
  }
}

/** Freezes plain data all the way down: an operator cannot change what the next one sees. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
