/** Where in a run an error happened. */
export interface TrainingErrorPlace {
  readonly runId: string;
  readonly epoch: number;
  readonly batch: number | undefined;
}

/**
 * A run failed: the message names the epoch and batch; `cause` holds the original error.
 */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
  readonly runId: string;
  readonly epoch: number;
  readonly batch: number | undefined;

  constructor(place: TrainingErrorPlace, cause: unknown) {
    const where = place.batch === undefined ? `epoch ${place.epoch}` : `epoch ${place.epoch}, batch ${place.batch}`;
    super(`Training failed at ${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.runId = place.runId;
    this.epoch = place.epoch;
    this.batch = place.batch;
  }
}
