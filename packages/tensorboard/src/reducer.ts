import { warningOf, type Logs, type TrainingEvent, type TrainParams } from '@rxfit/core';
import type { SummaryValue } from './summary.js';

/** The run folders of Keras' layout: `logDir/train`, `logDir/validation`, and `logDir` itself (hparams). */
export type RunFolder = 'train' | 'validation' | '.';

/** One summary to append to a run folder's event file. */
export interface SummaryWrite {
  readonly folder: RunFolder;
  readonly step: number;
  /** Seconds since the Unix epoch (the event's time). */
  readonly wallTime: number;
  readonly value: SummaryValue;
}

/** What the reducer needs to know of the operator's options. */
export interface ReducerSettings {
  /** Batches between batch-level summaries, or `'epoch'` for none. */
  readonly updateFreq: number | 'epoch';
  /** Epochs between weight histograms; 0 for none. */
  readonly histogramFreq: number;
  /** Write rxfit's provenance (stops, learning-rate changes, checkpoints, run start and end) as text. */
  readonly provenance: boolean;
  /** Hyperparameters for the hparams plugin, written when a run begins. */
  readonly hparams: Readonly<Record<string, number | string | boolean>> | undefined;
}

/** Where the writer stands in the run. */
export interface TensorBoardState {
  readonly runId: string | undefined;
  readonly params: TrainParams | undefined;
  /** Batches of each finished epoch: a global batch count is the sum before its epoch plus its index + 1. */
  readonly batchesIn: ReadonlyMap<number, number>;
  /** Batches seen in the current epoch. */
  readonly batches: number;
}

/** What one event asks the operator to do. */
export interface TensorBoardStep {
  readonly state: TensorBoardState;
  /** A run began: files for it are opened (the event's `runId`, time in seconds). */
  readonly begin?: { readonly runId: string; readonly wallTime: number };
  readonly writes: readonly SummaryWrite[];
  /** Write the pending records to disk and fsync (epoch end, run end). */
  readonly flush: boolean;
  /** Write weight histograms for this epoch (live runs only: a replay has no weights). */
  readonly histograms?: { readonly epoch: number; readonly wallTime: number };
  /** The run ended: close its files. */
  readonly end: boolean;
}

/**
 * The state before any event.
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/tensorboard';
 * const step = reduce(initialState(), event, settings);
 * ```
 * @returns An empty state.
 */
export function initialState(): TensorBoardState {
  return { runId: undefined, params: undefined, batchesIn: new Map(), batches: 0 };
}

/** Keras' global batch count after `batches` batches of `epoch`. */
function globalBatch(state: TensorBoardState, epoch: number, batches: number): number {
  let total = batches;
  for (let k = 0; k < epoch; k++)
    total += state.batchesIn.get(k) ?? state.params?.stepsPerEpoch ?? 0;
  return total;
}

const isNumber = (value: unknown): value is number => typeof value === 'number';

/** Keras' epoch tags: train logs, `lr` as `learning_rate`; `val_*` go to the validation run. */
function epochWrites(
  state: TensorBoardState,
  epoch: number,
  logs: Logs,
  wallTime: number,
): SummaryWrite[] {
  const train: SummaryWrite[] = [];
  const evaluation: SummaryWrite[] = [];
  const validation: SummaryWrite[] = [];
  const iterations = globalBatch(state, epoch, state.batches);
  for (const [key, value] of Object.entries(logs)) {
    if (!isNumber(value) || key === 'size') continue;
    if (key.startsWith('val_')) {
      const name = key.slice(4);
      evaluation.push({
        folder: 'validation',
        step: iterations,
        wallTime,
        value: { kind: 'scalar', tag: `evaluation_${name}_vs_iterations`, value },
      });
      validation.push({
        folder: 'validation',
        step: epoch,
        wallTime,
        value: { kind: 'scalar', tag: `epoch_${name}`, value },
      });
    } else if (key !== 'lr') {
      train.push({
        folder: 'train',
        step: epoch,
        wallTime,
        value: { kind: 'scalar', tag: `epoch_${key}`, value },
      });
    }
  }
  const lr = logs['lr'];
  if (isNumber(lr)) {
    train.push({
      folder: 'train',
      step: epoch,
      wallTime,
      value: { kind: 'scalar', tag: 'epoch_learning_rate', value: lr },
    });
  }
  // Keras writes the evaluation (on_test_end) before the epoch's summaries.
  return [...evaluation, ...train, ...validation];
}

const text = (tag: string, step: number, wallTime: number, body: string): SummaryWrite => ({
  folder: 'train',
  step,
  wallTime,
  value: { kind: 'text', tag: `rxfit/${tag}`, text: body },
});

/** The provenance text an event adds, Markdown as TensorBoard's text plugin shows it. */
function provenance(event: TrainingEvent, wallTime: number): SummaryWrite[] {
  switch (event.type) {
    case 'trainBegin': {
      const p = event.params;
      const facts = [
        `epochs ${p.initialEpoch} to ${p.epochs - 1}`,
        p.stepsPerEpoch === undefined ? undefined : `${p.stepsPerEpoch} steps per epoch`,
        p.batchSize === undefined ? undefined : `batch size ${p.batchSize}`,
        p.backend === undefined ? undefined : `backend \`${p.backend}\``,
        `logs ${p.metrics.map((m) => `\`${m}\``).join(', ') || 'none'}`,
      ].filter((fact) => fact !== undefined);
      return [
        text('run', p.initialEpoch, wallTime, `Run \`${event.runId}\` began: ${facts.join(', ')}.`),
      ];
    }
    case 'stopRequested': {
      const where =
        event.batch === undefined
          ? `epoch ${event.epoch}`
          : `epoch ${event.epoch}, batch ${event.batch}`;
      const details = event.details === undefined ? '' : `\n\n\`${JSON.stringify(event.details)}\``;
      return [
        text(
          'stop_reason',
          event.epoch,
          wallTime,
          `**${event.by}** stopped the run at ${where}: ${event.reason}${details}`,
        ),
      ];
    }
    case 'learningRateChanged':
      return [
        text(
          'learning_rate',
          event.epoch,
          wallTime,
          `**${event.by}** changed the learning rate from ${String(event.from)} to ${String(event.to)} at epoch ${event.epoch}.`,
        ),
      ];
    case 'checkpointSaved': {
      const monitor =
        event.monitor === undefined
          ? ''
          : ` (${event.monitor}${event.value === undefined ? '' : ` = ${String(event.value)}`})`;
      const where =
        event.batch === undefined
          ? `epoch ${event.epoch}`
          : `epoch ${event.epoch}, batch ${event.batch}`;
      return [
        text(
          'checkpoints',
          event.epoch,
          wallTime,
          `Saved \`${event.path}\` at ${where}${monitor}.`,
        ),
      ];
    }
    case 'custom': {
      const warning = warningOf(event);
      return warning
        ? [text('warnings', event.epoch, wallTime, `**${warning.by}**: ${warning.message}`)]
        : [];
    }
    case 'trainEnd': {
      const error = event.error === undefined ? '' : `: ${event.error}`;
      return [
        text(
          'run',
          event.epoch,
          wallTime,
          `Run \`${event.runId}\` ended at epoch ${event.epoch}: **${event.reason}**${error}.`,
        ),
      ];
    }
    default:
      return [];
  }
}

/**
 * Folds one event into the writer's state and says what to write: Keras' `TensorBoard` callback
 * as a pure state machine (no files, no clock, no tfjs).
 *
 * ## Example
 * ```ts
 * import { initialState, reduce } from '@rxfit/tensorboard';
 * let state = initialState();
 * const step = reduce(state, event, { updateFreq: 'epoch', histogramFreq: 0, provenance: true, hparams: undefined });
 * state = step.state; // step.writes: the summaries this event adds
 * ```
 * @param state - The state so far.
 * @param event - The next event.
 * @param settings - The operator's options.
 * @returns The next state and what to write.
 */
export function reduce(
  state: TensorBoardState,
  event: TrainingEvent,
  settings: ReducerSettings,
): TensorBoardStep {
  const wallTime = event.time / 1000;
  const texts = settings.provenance ? provenance(event, wallTime) : [];
  const nothing = { writes: texts, flush: false, end: false };
  switch (event.type) {
    case 'trainBegin': {
      const sameRun = state.runId === event.runId;
      const next: TensorBoardState = {
        runId: event.runId,
        params: event.params,
        // A resumed run keeps the batch counts of the epochs it replayed; a new run starts at 0.
        batchesIn: sameRun ? state.batchesIn : new Map(),
        batches: 0,
      };
      const hparams: SummaryWrite[] = settings.hparams
        ? [
            {
              folder: '.',
              step: 0,
              wallTime,
              value: { kind: 'hparams', hparams: settings.hparams, startTimeSecs: wallTime },
            },
          ]
        : [];
      return {
        state: next,
        begin: { runId: event.runId, wallTime },
        writes: [...hparams, ...texts],
        flush: false,
        end: false,
      };
    }
    case 'epochBegin':
      return { state: { ...state, batches: 0 }, ...nothing };
    case 'batchEnd': {
      const batches = event.batch + 1;
      const next = { ...state, batches };
      if (settings.updateFreq === 'epoch') return { state: next, ...nothing };
      const step = globalBatch(state, event.epoch, batches);
      if (step % settings.updateFreq !== 0) return { state: next, ...nothing };
      const writes = Object.entries(event.logs)
        .filter(
          (entry): entry is [string, number] =>
            isNumber(entry[1]) && entry[0] !== 'size' && entry[0] !== 'batch',
        )
        .map(([key, value]): SummaryWrite => ({
          folder: 'train',
          step,
          wallTime,
          value: { kind: 'scalar', tag: `batch_${key}`, value },
        }));
      return { state: next, writes: [...writes, ...texts], flush: false, end: false };
    }
    case 'epochEnd': {
      const writes = epochWrites(state, event.epoch, event.logs, wallTime);
      const batchesIn = new Map(state.batchesIn).set(event.epoch, state.batches);
      const histograms =
        settings.histogramFreq > 0 && event.epoch % settings.histogramFreq === 0
          ? { epoch: event.epoch, wallTime }
          : undefined;
      return {
        state: { ...state, batchesIn },
        writes: [...writes, ...texts],
        flush: true,
        ...(histograms ? { histograms } : {}),
        end: false,
      };
    }
    case 'trainEnd':
      return { state, writes: texts, flush: true, end: true };
    default:
      return { state, ...nothing };
  }
}
