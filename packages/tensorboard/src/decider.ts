import {
  warningOf,
  type Decider,
  type Decision,
  type Logs,
  type TrainingEvent,
  type TrainParams,
} from '@rxfit/core';
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

/** What the decider needs to know of the operator's options. */
export interface TensorBoardSettings {
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
  readonly params: TrainParams | undefined;
  /** Batches of each finished epoch: a global batch count is the sum before its epoch plus its index + 1. */
  readonly batchesIn: ReadonlyMap<number, number>;
  /** Batches seen in the current epoch. */
  readonly batches: number;
}

/** What one event asks the operator to do, in this order. */
export type TensorBoardCommand =
  /** A run began: files for it are opened (the event's `runId`, time in seconds). */
  | { readonly type: 'begin'; readonly runId: string; readonly wallTime: number }
  /** Summaries to append to the run folders' event files. */
  | { readonly type: 'write'; readonly writes: readonly SummaryWrite[] }
  /** Write weight histograms for this epoch (live runs only: a replay has no weights). */
  | { readonly type: 'histograms'; readonly epoch: number; readonly wallTime: number }
  /** Write the pending records to disk and fsync (epoch end). */
  | { readonly type: 'flush' }
  /** The run ended: flush and close its files. */
  | { readonly type: 'end' };

const INITIAL_STATE: TensorBoardState = { params: undefined, batchesIn: new Map(), batches: 0 };

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
 * Keras' `TensorBoard` callback as a {@link Decider}: which summaries each event adds, with
 * Keras' tags, steps and run folders, and when to flush and close. Pure: no I/O.
 *
 * ## Example
 * ```ts
 * import { decisionFold } from '@rxfit/core';
 * import { tensorBoardDecider } from '@rxfit/tensorboard';
 * const fold = decisionFold(tensorBoardDecider({ updateFreq: 'epoch', histogramFreq: 0, provenance: true, hparams: undefined }));
 * const writes = recordedEvents.flatMap((event) => fold.next(event)).flatMap((c) => (c.type === 'write' ? c.writes : []));
 * ```
 * @param settings - The operator's options that shape the summaries.
 * @returns The decider.
 */
export function tensorBoardDecider(
  settings: TensorBoardSettings,
): Decider<TensorBoardState, TensorBoardCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide: (state, event) => decide(state, event, settings),
  };
}

function decide(
  state: TensorBoardState,
  event: TrainingEvent,
  settings: TensorBoardSettings,
): Decision<TensorBoardState, TensorBoardCommand> {
  const wallTime = event.time / 1000;
  const texts = settings.provenance ? provenance(event, wallTime) : [];
  const written = (writes: readonly SummaryWrite[]): TensorBoardCommand[] =>
    writes.length > 0 ? [{ type: 'write', writes }] : [];
  switch (event.type) {
    case 'trainBegin': {
      const next: TensorBoardState = {
        params: event.params,
        // A resumed run (the same run, by decisionFold's rule) keeps the batch counts of the
        // epochs it replayed; a new run starts from the initial state.
        batchesIn: state.batchesIn,
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
        commands: [
          { type: 'begin', runId: event.runId, wallTime },
          ...written([...hparams, ...texts]),
        ],
      };
    }
    case 'epochBegin':
      return { state: { ...state, batches: 0 }, commands: written(texts) };
    case 'batchEnd': {
      const batches = event.batch + 1;
      const next = { ...state, batches };
      if (settings.updateFreq === 'epoch') return { state: next, commands: written(texts) };
      const step = globalBatch(state, event.epoch, batches);
      if (step % settings.updateFreq !== 0) return { state: next, commands: written(texts) };
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
      return { state: next, commands: written([...writes, ...texts]) };
    }
    case 'epochEnd': {
      const writes = epochWrites(state, event.epoch, event.logs, wallTime);
      const batchesIn = new Map(state.batchesIn).set(event.epoch, state.batches);
      const histograms: TensorBoardCommand[] =
        settings.histogramFreq > 0 && event.epoch % settings.histogramFreq === 0
          ? [{ type: 'histograms', epoch: event.epoch, wallTime }]
          : [];
      return {
        state: { ...state, batchesIn },
        commands: [...written([...writes, ...texts]), ...histograms, { type: 'flush' }],
      };
    }
    case 'trainEnd':
      return { state, commands: [...written(texts), { type: 'end' }] };
    default:
      return { state, commands: written(texts) };
  }
}
