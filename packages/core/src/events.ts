/** Training logs: metric name → value, Keras-style keys (`loss`, `acc`, `val_loss`, `lr`, ...). */
export type Logs = Readonly<Record<string, number>>;

/** Fields every event carries. */
export interface EventBase {
  /** The run this event belongs to. */
  readonly runId: string;
  /** 0, 1, 2, ... per run, without gaps. */
  readonly seq: number;
  /** Milliseconds since the epoch when the event was emitted. */
  readonly time: number;
  /** Present on events read back from a log or replayed: they carry no control. */
  readonly replayed?: true;
}

/** The parameters of a run, as Keras' `callback.params`. */
export interface TrainParams {
  readonly epochs: number;
  readonly initialEpoch: number;
  readonly stepsPerEpoch?: number;
  readonly samples?: number;
  readonly batchSize?: number;
  /** Every key the epoch logs will hold (`loss`, metrics, `val_*`). */
  readonly metrics: readonly string[];
  /**
   * The tfjs backend the run trains on (`wasm`, `tensorflow`, `cpu`, ...), followed by the device
   * when the backend names one: `webgpu on nvidia ampere (hardware, ...)`.
   */
  readonly backend?: string;
}

/** Why a run ended. */
export type TrainEndReason = 'completed' | 'stopped' | 'failed';

/** The body of each event type, without the {@link EventBase} fields. */
export type TrainingEventBody =
  | { readonly type: 'trainBegin'; readonly params: TrainParams }
  | { readonly type: 'epochBegin'; readonly epoch: number }
  | { readonly type: 'batchBegin'; readonly epoch: number; readonly batch: number }
  | { readonly type: 'batchEnd'; readonly epoch: number; readonly batch: number; readonly logs: Logs }
  | { readonly type: 'epochEnd'; readonly epoch: number; readonly logs: Logs }
  | {
      /**
       * The run is about to end (completed or stopped; a failed run goes straight to `trainEnd`).
       * Operators act here on what ends the run (restoring the best weights, a last save), so that
       * the events they cause come before `trainEnd`, the last event of a run.
       */
      readonly type: 'trainEnding';
      readonly epoch: number;
      readonly reason: Exclude<TrainEndReason, 'failed'>;
      readonly logs?: Logs;
    }
  | {
      readonly type: 'trainEnd';
      readonly epoch: number;
      readonly reason: TrainEndReason;
      readonly logs?: Logs;
      /** With `reason: 'failed'`: the error message. */
      readonly error?: string;
    }
  | {
      readonly type: 'stopRequested';
      readonly epoch: number;
      readonly batch?: number;
      readonly by: string;
      readonly reason: string;
      /** Facts behind the decision (monitor, best value, patience, ...). */
      readonly details?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'learningRateChanged';
      readonly epoch: number;
      readonly from: number;
      readonly to: number;
      readonly by: string;
    }
  | {
      readonly type: 'checkpointSaved';
      readonly epoch: number;
      /** Set when the save happened during an epoch (`saveFreq` in batches). */
      readonly batch?: number;
      readonly path: string;
      readonly monitor?: string;
      readonly value?: number;
    }
  | { readonly type: 'custom'; readonly epoch: number; readonly name: string; readonly data: unknown };

/** One fact of a training run: plain, frozen, JSON-serialisable data. */
export type TrainingEvent = EventBase & TrainingEventBody;

/** The event of one `type`. */
export type EventOfType<T extends TrainingEvent['type']> = Extract<TrainingEvent, { type: T }>;

/**
 * The name of the `custom` event that carries a warning: `data` is {@link WarningData}.
 * Operators emit warnings instead of printing, so every sink (progress bar, pino, log) sees them.
 */
export const WARNING_EVENT = 'warning';

/** The `data` of a `custom` event named {@link WARNING_EVENT}. */
export interface WarningData {
  readonly by: string;
  readonly message: string;
}

/**
 * The name of the `custom` event that describes a data source when a run begins
 * (for example `Found 8005 images belonging to 2 classes.`): `data` is {@link DataSourceData}.
 */
export const DATA_SOURCE_EVENT = 'dataSource';

/** The `data` of a `custom` event named {@link DATA_SOURCE_EVENT}. */
export interface DataSourceData {
  readonly role: 'training' | 'validation';
  readonly description: string;
}

/**
 * Narrows an event to one type; a type guard for `filter`.
 *
 * ## Example
 * ```ts
 * import { isEvent } from '@rxfit/core';
 * run$.pipe(filter(isEvent('epochEnd'))).subscribe((e) => console.log(e.logs.loss));
 * ```
 * @param type - The event type to keep.
 * @returns A predicate that is true for events of that type.
 */
export function isEvent<T extends TrainingEvent['type']>(
  type: T,
): (event: TrainingEvent) => event is EventOfType<T> {
  return (event): event is EventOfType<T> => event.type === type;
}

/**
 * The message of a warning event, or `undefined` for any other event.
 *
 * ## Example
 * ```ts
 * import { warningOf } from '@rxfit/core';
 * const w = warningOf(event); if (w) console.warn(`${w.by}: ${w.message}`);
 * ```
 * @param event - Any training event.
 * @returns The warning's data, or `undefined`.
 */
export function warningOf(event: TrainingEvent): WarningData | undefined {
  return event.type === 'custom' && event.name === WARNING_EVENT ? (event.data as WarningData) : undefined;
}
