import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionFold, type Logs, type TrainingEvent } from '@rxfit/core';
import { csvLoggerDecider, type CsvLoggerCommand } from '../src/decider.js';

let seq = 0;
const base = (runId: string, replayed: boolean) => ({
  runId,
  seq: seq++,
  time: 0,
  ...(replayed ? { replayed: true as const } : {}),
});
const trainBegin = (runId: string, replayed = false, metrics: string[] = ['loss']): TrainingEvent =>
  Object.freeze({
    ...base(runId, replayed),
    type: 'trainBegin',
    params: { epochs: 3, initialEpoch: 0, metrics },
  });
const epochEnd = (runId: string, epoch: number, logs: Logs, replayed = false): TrainingEvent =>
  Object.freeze({ ...base(runId, replayed), type: 'epochEnd', epoch, logs });

function fold(events: readonly TrainingEvent[]) {
  const folded = decisionFold(csvLoggerDecider);
  const decisions: CsvLoggerCommand[] = events.flatMap((event) => folded.next(event));
  return { state: folded.state, decisions };
}

/** The open decision of a live run that continues a log whose epochs 0 and 1 were replayed. */
const RESUMED_AFTER_TWO_EPOCHS: CsvLoggerCommand = {
  type: 'open',
  resume: true,
  rows: [
    { epoch: 0, logs: { loss: 1 } },
    { epoch: 1, logs: { loss: 0.5 } },
  ],
  keys: ['loss'],
};

describe('csv-logger decider', () => {
  it('a live run: open fresh, then one write per epoch with the keys fixed at the first', () => {
    const { decisions } = fold([
      trainBegin('a', false, ['loss', 'val_loss']),
      epochEnd('a', 0, { loss: 1, lr: 0.1 }),
      epochEnd('a', 1, { loss: 1, lr: 0.1, val_loss: 2, x: 1 }),
    ]);
    assert.deepEqual(decisions[0], { type: 'open', resume: false, rows: [], keys: undefined });
    assert.deepEqual(
      decisions.slice(1).map((d) => d.type === 'write' && d.keys),
      [
        ['loss', 'lr', 'val_loss'],
        ['loss', 'lr', 'val_loss'],
      ],
    );
  });

  it('a log resumed before (two replayed trainBegins of one run) keeps every replayed row', () => {
    const { decisions } = fold([
      trainBegin('a', true),
      epochEnd('a', 0, { loss: 1 }, true),
      trainBegin('a', true),
      epochEnd('a', 1, { loss: 0.5 }, true),
      trainBegin('a'),
    ]);
    assert.deepEqual(decisions[0], RESUMED_AFTER_TWO_EPOCHS);
  });

  it('replayed events decide nothing; the live continuation resumes with the rows written', () => {
    const { decisions } = fold([
      trainBegin('a', true),
      epochEnd('a', 0, { loss: 1 }, true),
      epochEnd('a', 1, { loss: 0.5 }, true),
      trainBegin('a'),
      epochEnd('a', 2, { loss: 0.25 }),
    ]);
    assert.deepEqual(decisions[0], RESUMED_AFTER_TWO_EPOCHS);
    assert.deepEqual(decisions[1], {
      type: 'write',
      row: { epoch: 2, logs: { loss: 0.25 } },
      keys: ['loss'],
    });
    assert.equal(decisions.length, 2);
  });

  it('a live run of another runId after a replay starts afresh', () => {
    const { decisions } = fold([
      trainBegin('a', true),
      epochEnd('a', 0, { loss: 1 }, true),
      trainBegin('b'),
    ]);
    assert.deepEqual(decisions, [{ type: 'open', resume: false, rows: [], keys: undefined }]);
  });

  it('replayed epochs without their trainBegin (a log read from a later line) still make a resume', () => {
    const { decisions } = fold([epochEnd('a', 3, { loss: 1 }, true), trainBegin('a')]);
    assert.deepEqual(decisions, [
      { type: 'open', resume: true, rows: [{ epoch: 3, logs: { loss: 1 } }], keys: ['loss'] },
    ]);
  });
});
