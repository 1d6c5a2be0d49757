import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import {
  controlOf,
  decisionFold,
  isEvent,
  TrainingError,
  type Logs,
  type TrainingEvent,
  type TrainingEventBody,
} from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import {
  NonFiniteLossError,
  terminateOnNaN,
  terminateOnNaNDecider,
  type TerminateOnNaNOptions,
} from '@rxfit/terminate-on-nan';

const EPOCHS: Logs[] = [{ loss: 1 }, { loss: 0.9 }, { loss: 0.8 }, { loss: 0.7 }];

/** A scripted run of 4 epochs × 3 batches whose loss is `bad` at (epoch, batch) `at`. */
function badLossRun(bad: number, at: [number, number], runId?: string): Observable<TrainingEvent> {
  return scriptedRun(EPOCHS, {
    batchesPerEpoch: 3,
    batchLogs: (epoch, batch) => ({ loss: epoch === at[0] && batch === at[1] ? bad : 1, size: 1 }),
    ...(runId ? { runId } : {}),
  });
}

/** Runs to the end, keeping the events seen before an error. */
async function settle(run$: Observable<TrainingEvent>) {
  const events: TrainingEvent[] = [];
  let error: unknown;
  try {
    await lastValueFrom(
      run$.pipe(
        tap((e) => events.push(e)),
        toArray(),
      ),
    );
  } catch (e) {
    error = e;
  }
  return { events, error };
}

const where = (events: readonly TrainingEvent[]) =>
  events.map((e) =>
    e.type === 'batchEnd'
      ? `b${e.epoch}.${e.batch}`
      : e.type === 'epochEnd'
        ? `e${e.epoch}`
        : e.type,
  );

describe('terminateOnNaN with scriptedRun', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`a ${bad} loss at epoch 1, batch 1 stops the run after that batch; the epoch still ends`, async () => {
      const { events, error } = await settle(badLossRun(bad, [1, 1]).pipe(terminateOnNaN()));
      assert.equal(error, undefined);
      assert.deepEqual(where(events).slice(-9), [
        'epochBegin',
        'batchBegin',
        'b1.0',
        'batchBegin',
        'b1.1',
        'stopRequested',
        'e1',
        'trainEnding',
        'trainEnd',
      ]);
      const stop = events.find(isEvent('stopRequested'))!;
      assert.equal(stop.by, 'terminateOnNaN');
      assert.equal(stop.epoch, 1);
      assert.equal(stop.batch, 1);
      assert.equal(stop.reason, `Epoch 1, batch 1: invalid loss ${bad}, terminating training`);
      assert.deepEqual(stop.details, { epoch: 1, batch: 1, loss: bad });
      const end = events.find(isEvent('trainEnd'))!;
      assert.equal(end.reason, 'stopped');
      assert.equal(end.epoch, 1);
    });
  }

  it('finite losses and logs without a loss never stop the run', async () => {
    const fine = await settle(badLossRun(5, [1, 1]).pipe(terminateOnNaN()));
    assert.equal(fine.events.find(isEvent('trainEnd'))?.reason, 'completed');
    const noLoss = await settle(
      scriptedRun([{ acc: NaN }, { acc: NaN }], { batchLogs: () => ({ acc: NaN, size: 1 }) }).pipe(
        terminateOnNaN(),
      ),
    );
    assert.equal(noLoss.events.find(isEvent('trainEnd'))?.reason, 'completed');
    assert.equal(
      noLoss.events.some((e) => e.type === 'stopRequested'),
      false,
    );
  });

  it('a bad loss at batch 0 of epoch 0 stops there', async () => {
    const { events } = await settle(badLossRun(NaN, [0, 0]).pipe(terminateOnNaN()));
    assert.deepEqual(where(events), [
      'trainBegin',
      'epochBegin',
      'batchBegin',
      'b0.0',
      'stopRequested',
      'e0',
      'trainEnding',
      'trainEnd',
    ]);
  });

  it('raiseError fails the run at that batch with an error naming epoch and batch; no epochEnd follows', async () => {
    const { events, error } = await settle(
      badLossRun(Infinity, [2, 0]).pipe(terminateOnNaN({ raiseError: true })),
    );
    // As fit: a TrainingError naming epoch and batch, whose cause is the operator's error.
    assert.ok(error instanceof TrainingError);
    assert.deepEqual([error.epoch, error.batch], [2, 0]);
    const cause = error.cause;
    assert.ok(cause instanceof NonFiniteLossError);
    assert.equal(
      cause.message,
      'terminateOnNaN: NaN or Inf loss encountered at epoch 2, batch 0. Loss value: Infinity. Terminating training immediately.',
    );
    assert.deepEqual([cause.epoch, cause.batch, cause.loss], [2, 0, Infinity]);
    // As with fit: the failed run ends with trainEnd 'failed' right after the bad batch.
    assert.deepEqual(where(events).slice(-4), ['epochBegin', 'batchBegin', 'b2.0', 'trainEnd']);
    const end = events.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'failed');
    assert.equal(
      events.some((e) => e.type === 'stopRequested'),
      false,
    );
  });

  it('passes every event through unchanged (same objects)', async () => {
    const seen: TrainingEvent[] = [];
    const { events } = await settle(
      badLossRun(NaN, [1, 2]).pipe(
        tap((e) => seen.push(e)),
        terminateOnNaN(),
      ),
    );
    assert.equal(events.length, seen.length);
    events.forEach((e, i) => assert.equal(e, seen[i]));
  });

  it('keeps state per subscription: one operator serves two runs', async () => {
    const operator = terminateOnNaN();
    const [a, b] = await Promise.all([
      settle(badLossRun(NaN, [0, 1]).pipe(operator)),
      settle(badLossRun(NaN, [2, 2]).pipe(operator)),
    ]);
    assert.equal(a.events.find(isEvent('stopRequested'))?.epoch, 0);
    assert.equal(b.events.find(isEvent('stopRequested'))?.epoch, 2);
  });

  it('stops only once even if another operator asked first', async () => {
    const { events } = await settle(
      badLossRun(NaN, [1, 1]).pipe(
        tap((e) => {
          if (e.type === 'batchEnd' && e.epoch === 1 && e.batch === 1)
            controlOf(e)?.stop('user', { by: 'user' });
        }),
        terminateOnNaN(),
      ),
    );
    assert.deepEqual(
      events.filter(isEvent('stopRequested')).map((e) => e.by),
      ['user'],
    );
  });
});

describe('terminateOnNaN with replayed events', () => {
  it('a replayed NaN batch causes no stop and no error, in both modes', async () => {
    const replayed = (await lastValueFrom(badLossRun(NaN, [0, 1]).pipe(toArray()))).map((e) =>
      Object.freeze({ ...e, replayed: true as const }),
    );
    for (const raiseError of [false, true]) {
      const { events, error } = await settle(from(replayed).pipe(terminateOnNaN({ raiseError })));
      assert.equal(error, undefined);
      assert.equal(events.length, replayed.length);
      events.forEach((e, i) => assert.equal(e, replayed[i]));
    }
  });
});

describe('terminateOnNaNDecider', () => {
  let seq = 0;
  const event = (body: TrainingEventBody, runId = 'r', replayed = false) =>
    Object.freeze({ ...body, runId, seq: seq++, time: 0, ...(replayed ? { replayed: true } : {}) }) as TrainingEvent;
  const batchEnd = (epoch: number, batch: number, loss: number, runId = 'a', replayed = false) =>
    event({ type: 'batchEnd', epoch, batch, logs: { loss, size: 1 } }, runId, replayed);
  const begin = (runId: string, replayed = false) =>
    event({ type: 'trainBegin', params: { epochs: 1, initialEpoch: 0, metrics: [] } }, runId, replayed);

  it('decides once per run, and again in another run', () => {
    const fold = decisionFold(terminateOnNaNDecider());
    // Run a's replayed log (replayed events fold the same; their commands are not carried out).
    fold.next(begin('a', true));
    assert.deepEqual(fold.next(batchEnd(0, 3, NaN, 'a', true)), [
      {
        kind: 'stop',
        reason: 'Epoch 0, batch 3: invalid loss NaN, terminating training',
        details: { epoch: 0, batch: 3, loss: NaN },
      },
    ]);
    const tripped = fold.state;
    assert.deepEqual(tripped.tripped, { epoch: 0, batch: 3, loss: NaN });
    assert.deepEqual(fold.next(batchEnd(0, 4, NaN, 'a', true)), []);
    fold.next(begin('a'));
    assert.equal(fold.state, tripped, 'a resumed run keeps its state');
    fold.next(begin('a'));
    assert.equal(fold.state.tripped, undefined, 'a second live start under the same id is a new run');
    fold.next(begin('b'));
    assert.equal(fold.state.tripped, undefined);
    assert.equal(fold.next(batchEnd(0, 0, -Infinity, 'b')).length, 1);
  });

  it('ignores finite losses, missing losses and epoch logs', () => {
    const decider = terminateOnNaNDecider({ raiseError: true });
    const state = decider.initialState();
    assert.deepEqual(decider.decide(state, batchEnd(0, 0, 1e30)).commands, []);
    assert.deepEqual(
      decider.decide(state, event({ type: 'batchEnd', epoch: 0, batch: 0, logs: { size: 1 } })).commands,
      [],
    );
    assert.deepEqual(
      decider.decide(state, event({ type: 'epochEnd', epoch: 0, logs: { loss: NaN } })).commands,
      [],
    );
  });

  it('with raiseError decides to fail', () => {
    const decider = terminateOnNaNDecider({ raiseError: true });
    const { commands } = decider.decide(decider.initialState(), batchEnd(3, 7, Infinity));
    assert.deepEqual(commands, [
      {
        kind: 'fail',
        message:
          'NaN or Inf loss encountered at epoch 3, batch 7. Loss value: Infinity. Terminating training immediately.',
        details: { epoch: 3, batch: 7, loss: Infinity },
      },
    ]);
  });

  it('rejects bad options as the operator does', () => {
    assert.throws(() => terminateOnNaNDecider({ raise_error: true } as TerminateOnNaNOptions), /unknown option 'raise_error'/);
  });
});
