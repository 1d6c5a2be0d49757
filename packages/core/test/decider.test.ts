import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decisionFold,
  type Decider,
  type TrainingEvent,
  type TrainingEventBody,
} from '@rxfit/core';

let seq = 0;
const event = (runId: string, body: TrainingEventBody, replayed = false): TrainingEvent =>
  Object.freeze({
    ...body,
    runId,
    seq: seq++,
    time: 0,
    ...(replayed ? { replayed: true as const } : {}),
  });
const begin = (runId: string, replayed = false) =>
  event(
    runId,
    { type: 'trainBegin', params: { epochs: 9, initialEpoch: 0, metrics: ['loss'] } },
    replayed,
  );
const epochEnd = (runId: string, epoch: number, replayed = false) =>
  event(runId, { type: 'epochEnd', epoch, logs: { loss: 1 } }, replayed);

/** Counts epoch ends and says which event types it saw: enough to watch the fold's rule. */
const counter: Decider<{ readonly epochs: number; readonly begins: number }, string> = {
  initialState: () => ({ epochs: 0, begins: 0 }),
  decide(state, e) {
    if (e.type === 'trainBegin')
      return { state: { ...state, begins: state.begins + 1 }, commands: [] };
    if (e.type !== 'epochEnd') return { state, commands: [] };
    return {
      state: { ...state, epochs: state.epochs + 1 },
      commands: [`epoch ${e.epoch} of ${e.runId}`],
    };
  },
};

describe('decisionFold: the one run rule', () => {
  it('folds live and replayed events through the same decide, returning its commands', () => {
    const fold = decisionFold(counter);
    assert.equal(fold.runId, undefined);
    assert.deepEqual(fold.next(epochEnd('a', 0, true)), ['epoch 0 of a']);
    assert.deepEqual(fold.next(epochEnd('a', 1)), ['epoch 1 of a']);
    assert.deepEqual(fold.state, { epochs: 2, begins: 0 });
    assert.equal(fold.runId, 'a');
  });

  it('a run resumed twice (replayed trainBegins, then the live one) carries its state on', () => {
    const fold = decisionFold(counter);
    for (const e of [
      begin('a', true),
      epochEnd('a', 0, true),
      begin('a', true),
      epochEnd('a', 1, true),
      begin('a'),
    ]) {
      fold.next(e);
    }
    assert.deepEqual(fold.state, { epochs: 2, begins: 3 });
  });

  it('an event of another run starts from initialState(), whatever its type', () => {
    const fold = decisionFold(counter);
    fold.next(begin('a'));
    fold.next(epochEnd('a', 0));
    fold.next(begin('b'));
    assert.deepEqual(fold.state, { epochs: 0, begins: 1 });
    fold.next(epochEnd('c', 4, true));
    assert.deepEqual(fold.state, { epochs: 1, begins: 0 });
    assert.equal(fold.runId, 'c');
  });

  it('a live trainBegin after a live trainBegin of the same id starts the run again (a reused id)', () => {
    const fold = decisionFold(counter);
    for (const e of [begin('a'), epochEnd('a', 0), epochEnd('a', 1)]) fold.next(e);
    assert.deepEqual(fold.state, { epochs: 2, begins: 1 });
    fold.next(begin('a'));
    assert.deepEqual(fold.state, { epochs: 0, begins: 1 });
    // A resume (replayed events, then the live trainBegin) carries on; the next live run restarts.
    const resumed = decisionFold(counter);
    for (const e of [begin('a', true), epochEnd('a', 0, true), begin('a'), epochEnd('a', 1), begin('a')]) {
      resumed.next(e);
    }
    assert.deepEqual(resumed.state, { epochs: 0, begins: 1 });
  });

  it("nextRun decides what a new run starts from (ModelCheckpoint's best outlives a run)", () => {
    const keeping = decisionFold({ ...counter, nextRun: (previous) => ({ ...previous, begins: 0 }) });
    for (const e of [begin('a'), epochEnd('a', 0), begin('b'), epochEnd('b', 0), begin('b')]) keeping.next(e);
    assert.deepEqual(keeping.state, { epochs: 2, begins: 1 });
  });
});
