import { reportWarning, warningOf, type TrainingEvent, type TrainParams } from '@rxfit/core';
import { checkOptions } from '@rxfit/core/operator-kit';
import { pino, type Level, type Logger } from 'pino';
import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { decisionMessage, formatLogs } from './format.js';

/** Options of {@link pinoLogger}. */
export interface PinoLoggerOptions {
  /**
   * What to do with replayed events (a past run read back from a log): log them at `debug` with
   * `replayed: true`, or skip them. @default 'debug'
   */
  readonly replayed?: 'debug' | 'skip';
}

/**
 * Logs every training event as one structured JSON line through pino, in a child logger bound
 * to the event's `runId`.
 *
 * Levels: `epochEnd`, `trainBegin`, `trainEnd` and decisions (`stopRequested`,
 * `learningRateChanged`, `checkpointSaved`, custom events) at `info`; `epochBegin` and batch
 * events at `debug`; warnings at `warn`; a failed `trainEnd` at `error`. The event's fields are
 * the record's fields, except `time` (pino's own timestamp) which becomes `eventTime`, and a
 * custom event's `name` which becomes `eventName` (pino's `name` is the logger's name).
 *
 * ## Example
 * ```ts
 * import { pinoLogger } from '@rxfit/logger';
 * import { pino } from 'pino';
 * await lastValueFrom(fit(model, data, { epochs: 5 }).pipe(pinoLogger(pino({ level: 'info' }))));
 * // {"level":30,"time":...,"runId":"...","type":"epochEnd","seq":7,"epoch":0,"logs":{"loss":0.69},"msg":"Epoch 1/5 - loss: 0.6900"}
 * ```
 * @param logger - The pino logger to write to. @default `pino()` (JSON on stdout, level info)
 * @param options - See {@link PinoLoggerOptions}.
 * @returns An operator that logs each event and passes it through unchanged.
 * @throws TypeError when `logger` has no `child` method; RangeError when `options.replayed` is not 'debug' or 'skip'.
 */
export function pinoLogger(
  logger?: Logger,
  options: PinoLoggerOptions = {},
): MonoTypeOperatorFunction<TrainingEvent> {
  if (logger !== undefined && typeof (logger as Partial<Logger> | null)?.child !== 'function') {
    throw new TypeError(
      `pinoLogger: logger must be a pino logger, got ${logger === null ? 'null' : typeof logger}`,
    );
  }
  checkOptions('pinoLogger', options, ['replayed']);
  const { replayed = 'debug' } = options;
  if (replayed !== 'debug' && replayed !== 'skip') {
    throw new RangeError(
      `pinoLogger: replayed must be one of 'debug', 'skip', got ${JSON.stringify(replayed)}`,
    );
  }
  const base = logger ?? pino();

  return (source) =>
    defer(() => {
      // Per subscription: the child of the current run, the run's params and the last saved
      // checkpoint values (for "improved from ... to ...").
      let child: { runId: string; logger: Logger } | undefined;
      let params: TrainParams | undefined;
      const lastSaved = new Map<string, number>();
      return source.pipe(
        tap((event) => {
          if (event.type === 'trainBegin') params = event.params;
          let previousSave: number | undefined;
          if (event.type === 'checkpointSaved' && event.monitor !== undefined) {
            previousSave = lastSaved.get(event.monitor);
            if (event.value !== undefined) lastSaved.set(event.monitor, event.value);
          }
          const isReplayed = event.replayed === true;
          if (isReplayed && replayed === 'skip') return;
          const level = isReplayed ? 'debug' : levelOf(event);
          if (child?.runId !== event.runId)
            child = {
              runId: event.runId,
              logger: base.child({ runId: event.runId }),
            };
          // Batch events are the hot path: build nothing when their level is off.
          if (!child.logger.isLevelEnabled(level)) return;
          child.logger[level](recordOf(event), messageOf(event, params, previousSave));
          if (level === 'warn') reportWarning(event);
        }),
      );
    });
}

/** The level of a live event. */
function levelOf(event: TrainingEvent): Level {
  switch (event.type) {
    case 'epochBegin':
    case 'batchBegin':
    case 'batchEnd':
      return 'debug';
    case 'trainEnd':
      return event.reason === 'failed' ? 'error' : 'info';
    case 'custom':
      return warningOf(event) ? 'warn' : 'info';
    default:
      return 'info';
  }
}

function recordOf(event: TrainingEvent): Record<string, unknown> {
  // runId is the child's binding; time and name would clash with pino's own fields.
  const { runId: _runId, time, type, seq, ...fields } = event;
  if ('name' in fields) {
    const { name, ...rest } = fields;
    return { type, seq, ...rest, eventName: name, eventTime: time };
  }
  return { type, seq, ...fields, eventTime: time };
}

function messageOf(
  event: TrainingEvent,
  params: TrainParams | undefined,
  previousSave: number | undefined,
): string {
  const of = params && params.epochs > 1 ? `/${params.epochs}` : '';
  switch (event.type) {
    case 'trainBegin':
      return `Training epochs ${event.params.initialEpoch + 1} to ${event.params.epochs}`;
    case 'epochBegin':
      return `Epoch ${event.epoch + 1}${of}`;
    case 'batchBegin':
      return `Epoch ${event.epoch + 1}${of}, batch ${event.batch + 1}`;
    case 'batchEnd':
      return `Epoch ${event.epoch + 1}${of}, batch ${event.batch + 1}${formatLogs(event.logs)}`;
    case 'epochEnd':
      return `Epoch ${event.epoch + 1}${of}${formatLogs(event.logs)}`;
    case 'trainEnd':
      return decisionMessage(event) ?? `Training ${event.reason} after epoch ${event.epoch + 1}`;
    case 'custom':
      return decisionMessage(event) ?? `Epoch ${event.epoch + 1}: ${event.name}`;
    default:
      return decisionMessage(event, previousSave) ?? event.type;
  }
}
