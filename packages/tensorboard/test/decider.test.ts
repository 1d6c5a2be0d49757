import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionFold, type TrainingEvent, type TrainingEventBody } from '@rxfit/core';
import { tensorBoardDecider, type TensorBoardCommand } from '@rxfit/tensorboard';

let seq = 0;
const event = (runId: string, body: TrainingEventBody, replayed = false): TrainingEvent =>
  Object.freeze({ ...body, runId, seq: seq++, time: 1000, ...(replayed ? { replayed: true as const } : {}) });

/** A run's events: epochs `from`..`to` − 1 of `batches` batches each. */
function epochs(runId: string, from: number, to: number, batches: number, replayed = false): TrainingEvent[] {
  const events = [
    event(
      runId,
      { type: 'trainBegin', params: { epochs: to, initialEpoch: from, metrics: ['loss'] } },
      replayed,
    ),
  ];
  for (let epoch = from; epoch < to; epoch++) {
    events.push(event(runId, { type: 'epochBegin', epoch }, replayed));
    for (let batch = 0; batch < batches; batch++) {
      events.push(event(runId, { type: 'batchEnd', epoch, batch, logs: { loss: 1, size: 1 } }, replayed));
    }
    events.push(event(runId, { type: 'epochEnd', epoch, logs: { loss: 1 } }, replayed));
  }
  return events;
}

const batchSteps = (commands: readonly TensorBoardCommand[]): number[] =>
  commands
    .flatMap((c) => (c.type === 'write' ? c.writes : []))
    .filter((w) => w.value.kind === 'scalar' && w.value.tag === 'batch_loss')
    .map((w) => w.step);

describe('tensorBoardDecider', () => {
  const settings = {
    updateFreq: 1,
    histogramFreq: 0,
    provenance: false,
    hparams: undefined,
  } as const;

  it('a resumed run (same run id) counts global batches on from its replayed epochs; another run from 0', () => {
    const fold = decisionFold(tensorBoardDecider(settings));
    for (const e of epochs('a', 0, 2, 3, true)) fold.next(e);
    const resumed = epochs('a', 2, 3, 3).flatMap((e) => fold.next(e));
    assert.deepEqual(batchSteps(resumed), [7, 8, 9]);
    const other = epochs('b', 0, 1, 3).flatMap((e) => fold.next(e));
    assert.deepEqual(batchSteps(other), [1, 2, 3]);
  });

  it('orders an epoch end: summaries, then the flush; a run end closes', () => {
    const fold = decisionFold(
      tensorBoardDecider({ ...settings, updateFreq: 'epoch', histogramFreq: 1 }),
    );
    const kinds = epochs('a', 0, 1, 1)
      .flatMap((e) => fold.next(e))
      .map((c) => c.type);
    assert.deepEqual(kinds, ['begin', 'write', 'histograms', 'flush']);
    assert.deepEqual(
      fold.next(event('a', { type: 'trainEnd', epoch: 0, reason: 'completed' })).map((c) => c.type),
      ['end'],
    );
  });
});
