import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, TrainingError, type TrainingEvent } from '@rxfit/core';
import { effectQueue } from '@rxfit/core/operator-kit';
import { scriptedRun } from '@rxfit/core/testing';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('effectQueue', () => {
  it('runs side effects in event order, and the loop waits for each before the next step', async () => {
    const done: string[] = [];
    const effects = effectQueue('writer');
    const events = await lastValueFrom(
      scriptedRun([{ loss: 2 }, { loss: 1 }], { batchesPerEpoch: 2 }).pipe(
        tap((e: TrainingEvent) => {
          const control = controlOf(e, 'writer');
          if (e.type === 'epochEnd') {
            // The first write is the slow one: order must not depend on speed.
            effects.run(control, async () => {
              await sleep(e.epoch === 0 ? 20 : 0);
              done.push(`epoch ${e.epoch}`);
            });
          }
          if (e.type === 'epochBegin' && e.epoch === 1) done.push('epoch 1 begins');
        }),
        toArray(),
      ),
    );
    assert.deepEqual(done, ['epoch 0', 'epoch 1 begins', 'epoch 1']);
    assert.equal(events.at(-1)?.type, 'trainEnd');
  });

  it('a failure fails the run naming the operator, and no later work runs to hide it', async () => {
    const ran: number[] = [];
    const effects = effectQueue('writer');
    await assert.rejects(
      lastValueFrom(
        scriptedRun([{ loss: 3 }, { loss: 2 }, { loss: 1 }]).pipe(
          tap((e) => {
            const control = controlOf(e, 'writer');
            if (e.type !== 'epochEnd') return;
            effects.run(control, async () => {
              ran.push(e.epoch);
              if (e.epoch === 0) throw new Error('disk full');
            });
            // Queued in the same turn, after the failing one: it must not run.
            effects.run(control, async () => {
              ran.push(100 + e.epoch);
            });
          }),
        ),
      ),
      (error: Error) => {
        assert.ok(error instanceof TrainingError);
        assert.match(error.message, /^Training failed at epoch 0: writer: disk full$/);
        return true;
      },
    );
    assert.deepEqual(ran, [0]);
  });

  it('without a control (a replay), idle() reports the failure', async () => {
    const effects = effectQueue('writer');
    effects.run(undefined, () => Promise.reject(new Error('no space')));
    effects.run(undefined, () => Promise.resolve());
    await assert.rejects(effects.idle(), /^Error: writer: no space$|writer: no space/);
  });
});
