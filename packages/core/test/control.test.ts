import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { delay, from, lastValueFrom, map, tap, toArray } from 'rxjs';
import {
  ControlError,
  controlOf,
  isEvent,
  reportWarning,
  warningOf,
  WARNING_EVENT,
  type TrainingEvent,
} from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';

const losses = [{ loss: 3 }, { loss: 2 }, { loss: 1 }];
const here = dirname(fileURLToPath(import.meta.url));

/** A stop at epoch 1 by an operator placed after `before` in the pipe. */
const stopAtEpoch1 = tap((e: TrainingEvent) => {
  // As every rxfit operator: the control is read for each event, as it is delivered.
  const run = controlOf(e, 'stopper');
  if (e.type === 'epochEnd' && e.epoch === 1) run?.stop('enough', { by: 'stopper' });
});

describe('run control', () => {
  it('survives an operator that copies events with spread', async () => {
    const events = await lastValueFrom(
      scriptedRun(losses).pipe(
        map((e) => ({ ...e })),
        stopAtEpoch1,
        toArray(),
      ),
    );
    assert.equal(events.filter(isEvent('stopRequested')).length, 1, 'the stop reached the loop');
    assert.equal(events.filter(isEvent('epochEnd')).length, 2);
  });

  it('crosses a second copy of @rxfit/core in the app', async () => {
    // A real second copy: core's sources copied to another folder and loaded as other modules.
    const copyDir = await mkdtemp(join(here, '.second-core-'));
    after(() => rm(copyDir, { recursive: true, force: true }));
    await cp(join(here, '..', 'src'), copyDir, { recursive: true });
    const second = (await import(pathToFileURL(join(copyDir, 'index.ts')).href)) as typeof import('@rxfit/core');
    assert.notEqual(second.controlOf, controlOf, 'two module instances');
    const events = await lastValueFrom(
      scriptedRun(losses).pipe(
        tap((e) => {
          if (e.type === 'epochEnd' && e.epoch === 0) second.controlOf(e)?.stop('from the other copy');
        }),
        toArray(),
      ),
    );
    assert.equal(events.find(isEvent('stopRequested'))?.reason, 'from the other copy');
  });

  it('a live event rebuilt without its control fails the run, saying what happened and how to fix it', async () => {
    await assert.rejects(
      lastValueFrom(scriptedRun(losses).pipe(map((e) => structuredClone(e)), stopAtEpoch1)),
      (error: Error) => {
        assert.ok(error instanceof ControlError);
        assert.match(error.message, /^stopper: event 0 \(trainBegin\) of run scripted-run is live/);
        assert.match(error.message, /carries no run control/);
        assert.match(error.message, /copy them with spread/);
        return true;
      },
    );
  });

  it('an event delivered after an async hop (delay) fails clearly instead of acting late', async () => {
    // A run slow enough that the delayed events arrive while it goes on...
    const slow = tap((e: TrainingEvent) => {
      if (e.type === 'batchEnd') controlOf(e)?.defer(new Promise((resolve) => setTimeout(resolve, 20)));
    });
    await assert.rejects(lastValueFrom(scriptedRun(losses).pipe(slow, delay(0), stopAtEpoch1)), (error: Error) => {
      assert.ok(error instanceof ControlError);
      assert.match(error.message, /arrived after the loop had moved on/);
      assert.match(error.message, /Put stopper before any asynchronous operator/);
      return true;
    });
    // ...and one so fast that they arrive after it ended.
    await assert.rejects(lastValueFrom(scriptedRun(losses).pipe(delay(0), stopAtEpoch1)), /arrived after its run had ended/);
  });

  it("a finished run's events pass through operators again once marked replayed", async () => {
    const events = await lastValueFrom(scriptedRun(losses).pipe(toArray()));
    assert.throws(() => controlOf(events[0]!), ControlError);
    const again = await lastValueFrom(
      from(events).pipe(
        map((e) => ({ ...e, replayed: true as const })),
        stopAtEpoch1,
        toArray(),
      ),
    );
    assert.equal(again.length, events.length);
  });

  it('defer after the run closed throws; on failure the loop waits for deferred work first', async () => {
    let finished = false;
    const order: string[] = [];
    await assert.rejects(
      lastValueFrom(
        scriptedRun(losses).pipe(
          tap((e) => {
            // A save in flight at epoch 0, and a failure from another operator right after.
            if (e.type === 'epochEnd' && e.epoch === 0) {
              const run = controlOf(e)!;
              run.defer(
                new Promise<void>((resolve) =>
                  setTimeout(() => {
                    finished = true;
                    order.push('save finished');
                    resolve();
                  }, 30),
                ),
              );
              run.defer(Promise.reject(new Error('disk full')));
            }
            if (e.type === 'trainEnd') order.push(`trainEnd ${e.reason}`);
          }),
        ),
      ),
      /disk full/,
    );
    assert.ok(finished);
    assert.deepEqual(order, ['save finished', 'trainEnd failed']);
  });
});

describe('warnings reach people', () => {
  const captured: string[] = [];
  const listen = (warning: Error) => {
    if (warning.name === 'RxfitWarning') captured.push(warning.message);
  };
  process.on('warning', listen);
  after(() => process.off('warning', listen));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const warnTwice = tap((e: TrainingEvent) => {
    if (e.type === 'epochEnd') controlOf(e)?.warn('the same thing', { by: 'op' });
  });

  it('a warning no logger reported is printed once to stderr', async () => {
    captured.length = 0;
    await lastValueFrom(scriptedRun(losses).pipe(warnTwice));
    await settle();
    assert.deepEqual(captured, ['op: the same thing']);
  });

  it('is not printed when a logger in the pipe reported it', async () => {
    captured.length = 0;
    const logger = tap((e: TrainingEvent) => {
      if (warningOf(e)) reportWarning(e);
    });
    await lastValueFrom(scriptedRun(losses).pipe(warnTwice, logger));
    await settle();
    assert.deepEqual(captured, []);
  });

  it('printWarnings: false opts out; the warning events are still there', async () => {
    captured.length = 0;
    const events = await lastValueFrom(scriptedRun(losses, { printWarnings: false }).pipe(warnTwice, toArray()));
    await settle();
    assert.deepEqual(captured, []);
    assert.equal(events.filter((e) => e.type === 'custom' && e.name === WARNING_EVENT).length, 3);
  });

  it('a warning after trainEnd cannot be an event: it is printed', async () => {
    captured.length = 0;
    const events = await lastValueFrom(
      scriptedRun(losses).pipe(
        tap((e) => {
          if (e.type === 'trainEnd') controlOf(e)?.warn('late news', { by: 'op' });
        }),
        toArray(),
      ),
    );
    await settle();
    assert.equal(events.at(-1)?.type, 'trainEnd');
    assert.deepEqual(captured, ['op: late news']);
  });
});
