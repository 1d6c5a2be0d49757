import type { Logs, TrainingEvent, TrainingEventBody, TrainParams } from '@rxfit/core';

/** Builds a run's events by hand, with exact times, as a log read back would hold them. */
export class EventScript {
  readonly events: TrainingEvent[] = [];
  private seq = 0;

  constructor(
    private readonly runId = 'run-1',
    private readonly replayed = false,
  ) {}

  add(time: number, body: TrainingEventBody): this {
    this.events.push(
      Object.freeze({
        ...body,
        runId: this.runId,
        seq: this.seq++,
        time,
        ...(this.replayed ? { replayed: true as const } : {}),
      }),
    );
    return this;
  }

  trainBegin(time: number, params: Partial<TrainParams> & { epochs: number }): this {
    return this.add(time, {
      type: 'trainBegin',
      params: { initialEpoch: 0, metrics: [], ...params },
    });
  }

  /**
   * One epoch: `epochBegin` at `start`, the first batch ending at `firstStep`, each next batch
   * `stepMs` later, `epochEnd` at `end`.
   */
  epoch(
    epoch: number,
    times: { start: number; firstStep: number; stepMs: number; end: number },
    batches: number,
    logs: Logs,
    batchLogs: (batch: number) => Logs = () => ({
      loss: logs['loss'] ?? 0,
      size: 32,
    }),
  ): this {
    this.add(times.start, { type: 'epochBegin', epoch });
    for (let batch = 0; batch < batches; batch++) {
      const t = times.firstStep + batch * times.stepMs;
      this.add(t, { type: 'batchBegin', epoch, batch });
      this.add(t, { type: 'batchEnd', epoch, batch, logs: batchLogs(batch) });
    }
    return this.add(times.end, { type: 'epochEnd', epoch, logs });
  }
}
