import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concat, from, lastValueFrom, map, tap, toArray, type Observable } from 'rxjs';
import { controlOf, isEvent, warningOf, type Logs, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { earlyStopping, EARLY_STOPPING, type EarlyStoppingOptions } from '@rxfit/early-stopping';
import { epochEvents, KERAS_LOSSES, KERAS_PATIENCE_STOPS } from './helpers.js';

const losses = (values: readonly number[], key = 'loss'): Logs[] =>
  values.map((v) => ({ [key]: v }));
const collect = (run$: Observable<TrainingEvent>) => lastValueFrom(run$.pipe(toArray()));

/** The epochs that ran, the stop request and the end of a scripted run through earlyStopping. */
async function scripted(logs: readonly Logs[], options: EarlyStoppingOptions, batchesPerEpoch = 1) {
  const events = await collect(scriptedRun(logs, { batchesPerEpoch }).pipe(earlyStopping(options)));
  return {
    events,
    epochs: events.filter(isEvent('epochEnd')).map((e) => e.epoch),
    stop: events.find(isEvent('stopRequested')),
    end: events.find(isEvent('trainEnd')),
    warnings: events.flatMap((e) => (warningOf(e) ? [warningOf(e)!] : [])),
  };
}

describe('earlyStopping with scriptedRun', () => {
  for (const [patience, expected] of KERAS_PATIENCE_STOPS) {
    it(`S1: patience ${patience} stops after epoch ${expected}`, async () => {
      const run = await scripted(losses(KERAS_LOSSES), { monitor: 'loss', patience }, 2);
      assert.deepEqual(
        run.epochs,
        Array.from({ length: expected + 1 }, (_, i) => i),
      );
      assert.equal(run.stop?.epoch, expected);
      assert.equal(
        run.stop?.batch,
        undefined,
        'the stop comes at the epoch end, outside any batch',
      );
      assert.equal(run.stop?.by, EARLY_STOPPING);
      assert.equal(run.end?.reason, 'stopped');
      assert.equal(run.end?.epoch, expected);
    });
  }

  it('the stopRequested event says why, right after the epochEnd that decided it', async () => {
    const run = await scripted(losses(KERAS_LOSSES), { monitor: 'loss', patience: 2 });
    const types = run.events.map((e) => e.type);
    assert.deepEqual(types.slice(-4), ['epochEnd', 'stopRequested', 'trainEnding', 'trainEnd']);
    assert.equal(
      run.stop?.reason,
      'early stopping: loss did not improve for 2 epochs (patience 2; best 8 at epoch index 2)',
    );
    assert.deepEqual(run.stop?.details, {
      cause: 'patience',
      monitor: 'loss',
      value: 8.9,
      best: 8,
      bestEpoch: 2,
      patience: 2,
      wait: 2,
    });
  });

  it('S3: baseline 0.5 that nothing beats: exactly 5 epochs with patience 5', async () => {
    const run = await scripted(losses([0.9, 0.8, 0.7, 0.71, 0.72, 0.73], 'val_loss'), {
      patience: 5,
      baseline: 0.5,
    });
    assert.deepEqual(run.epochs, [0, 1, 2, 3, 4]);
    assert.equal(run.stop?.details?.['bestEpoch'], 2);
  });

  it('minDelta: steps of 0.5 under minDelta 1 do not count', async () => {
    const run = await scripted(losses([10, 9.5, 9, 8.5, 8]), {
      monitor: 'loss',
      minDelta: 1,
      patience: 2,
    });
    assert.deepEqual(run.epochs, [0, 1, 2]);
  });

  for (const monitor of ['val_acc', 'val_accuracy', 'auc']) {
    it(`mode auto maximises ${monitor}`, async () => {
      const rising = await scripted(losses([0.5, 0.6, 0.7, 0.8], monitor), { monitor });
      assert.equal(rising.stop, undefined);
      assert.equal(rising.end?.reason, 'completed');
      const falling = await scripted(losses([0.5, 0.6, 0.55, 0.8], monitor), { monitor });
      assert.equal(falling.stop?.epoch, 2);
    });
  }

  it('a monitor the run does not log fails the run at trainBegin, before any batch, naming the closest key', async () => {
    const seen: TrainingEvent[] = [];
    await assert.rejects(
      lastValueFrom(scriptedRun(losses([1, 2, 3])).pipe(earlyStopping({ monitor: 'los' }), tap((e) => seen.push(e)))),
      /earlyStopping: monitor 'los' is not logged by this run\. Did you mean 'loss'\? The run logs: loss, lr\./,
    );
    assert.deepEqual(seen.map((e) => e.type), ['trainBegin', 'trainEnd'], 'no epoch ran');
  });

  it("Keras' names get tfjs' spelling: val_accuracy is refused at trainBegin, naming val_acc", async () => {
    await assert.rejects(
      lastValueFrom(scriptedRun([{ acc: 0.5, val_acc: 0.5 }]).pipe(earlyStopping({ monitor: 'val_accuracy' }))),
      /'val_accuracy' is Keras' name; tfjs logs it as 'val_acc': write 'val_acc'/,
    );
  });

  it('a monitor auto mode cannot read fails at trainBegin when the run logs it, asking for a mode', async () => {
    // Not at factory time: 'val_los' is a typo, and "pass mode: 'min'" would hide it.
    assert.doesNotThrow(() => earlyStopping({ monitor: 'val_custom_thing' }));
    await assert.rejects(
      lastValueFrom(scriptedRun([{ loss: 1, val_custom_thing: 2 }]).pipe(earlyStopping({ monitor: 'val_custom_thing' }))),
      /mode 'auto' cannot tell whether monitor 'val_custom_thing' should be minimized or maximized/,
    );
  });

  it('startFromEpoch 2: a rising loss is ignored until epoch 2', async () => {
    const run = await scripted(losses([1, 2, 3, 4, 5, 6]), {
      monitor: 'loss',
      startFromEpoch: 2,
      patience: 1,
    });
    assert.deepEqual(run.epochs, [0, 1, 2, 3]);
    assert.equal(run.stop?.details?.['bestEpoch'], 2);
  });

  it("missingMonitor 'warn': a missing monitor gives one warning event and no stop (Keras)", async () => {
    const run = await scripted(losses([1, 2, 3, 4]), { patience: 0, missingMonitor: 'warn' });
    assert.equal(run.stop, undefined);
    assert.equal(run.end?.reason, 'completed');
    assert.deepEqual(run.warnings, [
      {
        by: EARLY_STOPPING,
        message:
          "Early stopping conditioned on metric 'val_loss' which is not available. Available metrics are: loss,lr",
      },
    ]);
    // It comes right after the first epochEnd.
    const at = run.events.findIndex((e) => warningOf(e) !== undefined);
    assert.equal(run.events[at - 1]?.type, 'epochEnd');
  });

  it('Lightning thresholds and the finite check stop the run with their cause', async () => {
    const threshold = await scripted(losses([9, 8, 7, 6, 5, 6, 4, 3, 2, 1]), {
      monitor: 'loss',
      patience: 3,
      stoppingThreshold: 2.9,
    });
    assert.equal(threshold.stop?.epoch, 8);
    assert.equal(threshold.stop?.details?.['cause'], 'stoppingThreshold');
    const divergence = await scripted(losses([9, 4, 2, 16, 32, 64]), {
      monitor: 'loss',
      patience: 3,
      divergenceThreshold: 15.9,
    });
    assert.equal(divergence.stop?.epoch, 3);
    assert.equal(divergence.stop?.details?.['cause'], 'divergenceThreshold');
    const nan = await scripted(losses([4, 3, NaN, 2, 1]), { monitor: 'loss', patience: 3 });
    assert.equal(nan.stop?.epoch, 2);
    assert.equal(nan.stop?.details?.['cause'], 'nonFinite');
    const unchecked = await scripted(losses([4, 3, NaN, 2, 1]), {
      monitor: 'loss',
      patience: 3,
      checkFinite: false,
    });
    assert.equal(unchecked.stop, undefined);
  });

  it('passes every event through unchanged and in order (same objects)', async () => {
    const seen: TrainingEvent[] = [];
    const out = await collect(
      scriptedRun(losses(KERAS_LOSSES), { batchesPerEpoch: 2 }).pipe(
        tap((e) => seen.push(e)),
        earlyStopping({ monitor: 'loss', patience: 1 }),
      ),
    );
    assert.equal(out.length, seen.length);
    out.forEach((e, i) => assert.equal(e, seen[i]));
    out.forEach((e, i) => assert.equal(e.seq, i));
  });

  it('keeps state per subscription: one operator serves two runs alike', async () => {
    const operator = earlyStopping({ monitor: 'loss', patience: 1 });
    const run$ = scriptedRun(losses(KERAS_LOSSES)).pipe(operator);
    const [a, b] = await Promise.all([collect(run$), collect(run$)]);
    const stopOf = (events: TrainingEvent[]) => events.find(isEvent('stopRequested'))?.epoch;
    assert.equal(stopOf(a), 3);
    assert.equal(stopOf(b), 3);
  });

  it('honours a stop requested by another operator first: one stopRequested, the first wins', async () => {
    const run = await collect(
      scriptedRun(losses(KERAS_LOSSES)).pipe(
        tap((e) => {
          if (e.type === 'epochEnd' && e.epoch === 3)
            controlOf(e)?.stop('user stop', { by: 'user' });
        }),
        earlyStopping({ monitor: 'loss', patience: 0 }),
      ),
    );
    const stops = run.filter(isEvent('stopRequested'));
    assert.deepEqual(
      stops.map((s) => s.by),
      ['user'],
    );
  });
});

describe('earlyStopping with replayed events', () => {
  it('replayed events never cause a stop command or a warning', async () => {
    // Replayed copies of a live run's events: they still carry the run's control link (spread
    // keeps it), so a command given for them would reach the loop and show in the stream.
    // Patience 0 would stop at epoch 3, and the missing monitor would warn, were these live.
    const asReplayed = map((e: TrainingEvent) => ({ ...e, replayed: true as const }));
    const out = await collect(
      scriptedRun(losses(KERAS_LOSSES)).pipe(asReplayed, earlyStopping({ monitor: 'loss', patience: 0 })),
    );
    assert.equal(out.filter(isEvent('stopRequested')).length, 0);
    assert.equal(out.filter(isEvent('epochEnd')).length, KERAS_LOSSES.length, 'the run went on');
    const other = await collect(
      scriptedRun([{ acc: 1 }, { acc: 1 }]).pipe(asReplayed, earlyStopping({ monitor: 'loss', missingMonitor: 'warn' })),
    );
    assert.equal(other.flatMap((e) => warningOf(e) ?? []).length, 0);
    // The same pipe without the replayed mark stops and warns: the test can fail.
    const live = await collect(scriptedRun(losses(KERAS_LOSSES)).pipe(earlyStopping({ monitor: 'loss', patience: 0 })));
    assert.equal(live.filter(isEvent('stopRequested')).length, 1);
  });

  it('a resumed run continues counting from the replayed log', async () => {
    // Original run: epochs 0-3 logged (wait 1 after epoch 3). Resumed live from epoch 4 with patience 2:
    // 8.9 is the second epoch without improvement → stop at epoch 4.
    const replay = epochEvents(losses(KERAS_LOSSES.slice(0, 4)), { replayed: true, runId: 'r' });
    const live = scriptedRun(losses(KERAS_LOSSES), {
      initialEpoch: 4,
      runId: 'r',
      firstSeq: replay.length,
    });
    const out = await collect(
      concat(from(replay), live).pipe(earlyStopping({ monitor: 'loss', patience: 2 })),
    );
    const stop = out.find(isEvent('stopRequested'));
    assert.equal(stop?.epoch, 4);
    assert.deepEqual(stop?.details, {
      cause: 'patience',
      monitor: 'loss',
      value: 8.9,
      best: 8,
      bestEpoch: 2,
      patience: 2,
      wait: 2,
    });
    // Without the replay the same live run never stops (each later epoch improves on 8.9).
    const alone = await collect(
      scriptedRun(losses(KERAS_LOSSES), { initialEpoch: 4, runId: 'r' }).pipe(
        earlyStopping({ monitor: 'loss', patience: 2 }),
      ),
    );
    assert.equal(alone.find(isEvent('stopRequested')), undefined);
  });

  it('restoreBestWeights without a model warns once and keeps nothing', async () => {
    const run = await scripted(losses(KERAS_LOSSES), {
      monitor: 'loss',
      patience: 1,
      restoreBestWeights: true,
    });
    assert.equal(run.stop?.epoch, 3);
    assert.equal(run.warnings.length, 1);
    assert.match(run.warnings[0]!.message, /restoreBestWeights: this run exposes no model/);
    assert.equal(
      run.events.some((e) => e.type === 'custom' && e.name === 'weightsRestored'),
      false,
    );
  });
});
