import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, tap, toArray, take } from 'rxjs';
import { controlOf, isEvent, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';

const losses = [{ loss: 10 }, { loss: 9 }, { loss: 8 }, { loss: 9 }];

describe('scriptedRun', () => {
  it('emits what fit emits, with lr added to each epochEnd', async () => {
    const events = await lastValueFrom(scriptedRun(losses, { batchesPerEpoch: 2, learningRate: 0.1 }).pipe(toArray()));
    assert.equal(events.length, 1 + 4 * 6 + 2);
    events.forEach((e, i) => assert.equal(e.seq, i));
    assert.deepEqual(
      events.filter(isEvent('epochEnd')).map((e) => e.logs),
      losses.map((l) => ({ ...l, lr: 0.1 })),
    );
    assert.deepEqual(events.filter(isEvent('batchEnd'))[0]!.logs, { loss: 10, size: 1 });
    const end = events.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'completed');
  });

  it('honours stop: ends the epoch, then trainEnd stopped', async () => {
    const events = await lastValueFrom(
      scriptedRun(losses).pipe(
        tap((e) => e.type === 'epochEnd' && e.logs['loss']! > 8.5 && e.epoch === 3 && controlOf(e)!.stop('up')),
        tap((e) => e.type === 'epochEnd' && e.epoch === 1 && controlOf(e)!.stop('nine', { by: 'me', details: { x: 1 } })),
        toArray(),
      ),
    );
    assert.deepEqual(
      events.slice(-4).map((e) => e.type),
      ['epochEnd', 'stopRequested', 'trainEnding', 'trainEnd'],
    );
    const stop = events.find(isEvent('stopRequested'))!;
    assert.deepEqual([stop.epoch, stop.by, stop.reason, stop.details], [1, 'me', 'nine', { x: 1 }]);
    assert.equal(events.filter(isEvent('stopRequested')).length, 1, 'the first stop wins');
  });

  it('stops mid-epoch after the current batch', async () => {
    const events = await lastValueFrom(
      scriptedRun(losses, { batchesPerEpoch: 3 }).pipe(
        tap((e) => e.type === 'batchEnd' && e.epoch === 2 && e.batch === 0 && controlOf(e)!.stop('nan')),
        toArray(),
      ),
    );
    const kinds = events.slice(events.findIndex((e) => e.type === 'epochBegin' && e.epoch === 2)).map((e) => e.type);
    assert.deepEqual(kinds, ['epochBegin', 'batchBegin', 'batchEnd', 'stopRequested', 'epochEnd', 'trainEnding', 'trainEnd']);
  });

  it('honours setLearningRate: the next epoch logs the new rate', async () => {
    const events = await lastValueFrom(
      scriptedRun(losses, { learningRate: 0.1 }).pipe(
        tap((e) => {
          const run = controlOf(e);
          if (e.type === 'epochEnd' && run) run.setLearningRate(run.learningRate / 10, { by: 'decay' });
          if (e.type === 'trainBegin') assert.throws(() => run!.setLearningRate(-1), /finite number >= 0/);
        }),
        toArray(),
      ),
    );
    const lrs = events.filter(isEvent('epochEnd')).map((e) => e.logs['lr']!);
    assert.deepEqual(lrs.map((lr) => Number(lr.toPrecision(6))), [0.1, 0.01, 0.001, 0.0001]);
    const changes = events.filter(isEvent('learningRateChanged'));
    assert.equal(changes.length, 4);
    assert.equal(changes[0]!.by, 'decay');
  });

  it('emits custom events in order and waits for deferred work', async () => {
    const order: string[] = [];
    const events = await lastValueFrom(
      scriptedRun(losses.slice(0, 2)).pipe(
        tap((e: TrainingEvent) => {
          order.push(e.type);
          if (e.type === 'epochEnd' && e.epoch === 0) {
            controlOf(e)!.emit('hello', 1);
            controlOf(e)!.defer(new Promise((r) => setTimeout(r, 20)).then(() => order.push('done')));
          }
        }),
        toArray(),
      ),
    );
    assert.deepEqual(order.slice(order.indexOf('epochEnd'), order.indexOf('epochEnd') + 4), [
      'epochEnd', 'custom', 'done', 'epochBegin',
    ]);
    assert.equal(events.find(isEvent('custom'))!.seq, events.findIndex((e) => e.type === 'epochEnd') + 1);
  });

  it('starts at initialEpoch and can be cancelled', async () => {
    const events = await lastValueFrom(scriptedRun(losses, { initialEpoch: 2 }).pipe(toArray()));
    assert.deepEqual(events.filter(isEvent('epochEnd')).map((e) => e.epoch), [2, 3]);
    const firstTwo = await lastValueFrom(scriptedRun(losses).pipe(take(2), toArray()));
    assert.equal(firstTwo.length, 2);
  });

  it('fails like fit when deferred work rejects: trainEnd failed, then the error', async () => {
    const seen: TrainingEvent[] = [];
    const run$ = scriptedRun(losses).pipe(
      tap((e) => {
        seen.push(e);
        if (e.type === 'epochEnd' && e.epoch === 1) controlOf(e)!.defer(Promise.reject(new Error('disk full')));
      }),
    );
    await assert.rejects(lastValueFrom(run$), /disk full/);
    const end = seen.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'failed');
    assert.equal(end.type === 'trainEnd' && end.error, 'disk full');
  });

  it('rejects bad options', () => {
    assert.throws(() => scriptedRun([]), /at least one epoch/);
    assert.throws(() => scriptedRun(losses, { batchesPerEpoch: 0 }), /batchesPerEpoch must be an integer >= 1/);
  });
});
