import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defer, lastValueFrom, tap, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { eventLog, readEventLog, replayAsRun, simulate, whatIf } from '@rxfit/event-log';
import { tempDir } from './helpers.js';

/** A minimal Keras-style early stopping on `loss` (the real one lives in @rxfit/early-stopping). */
function stopAfter(patience: number): MonoTypeOperatorFunction<TrainingEvent> {
  return (source) =>
    defer(() => {
      let best = Infinity;
      let wait = 0;
      return source.pipe(
        tap((event) => {
          if (event.type !== 'epochEnd') return;
          const loss = event.logs['loss']!;
          wait++;
          if (loss < best) {
            best = loss;
            wait = 0;
          }
          if (wait >= patience && event.epoch > 0) controlOf(event)?.stop(`loss did not improve for ${wait} epochs`, { by: 'stopAfter' });
        }),
      );
    });
}

/** Halves the learning rate whenever the loss goes up. */
function halveOnRise(): MonoTypeOperatorFunction<TrainingEvent> {
  return (source) =>
    defer(() => {
      let previous = Infinity;
      return source.pipe(
        tap((event) => {
          if (event.type !== 'epochEnd') return;
          const run = controlOf(event);
          if (run && event.logs['loss']! > previous) run.setLearningRate(run.learningRate / 2, { by: 'halveOnRise' });
          previous = event.logs['loss']!;
        }),
      );
    });
}

const losses = [10, 9, 8, 9, 9.5, 9.7, 7, 6, 6.5, 6.6].map((loss) => ({ loss, val_loss: loss + 1 }));

async function loggedRun(): Promise<string> {
  const path = join(await tempDir(), 'events.jsonl');
  await lastValueFrom(scriptedRun(losses, { batchesPerEpoch: 2, learningRate: 0.1, runId: 'r' }).pipe(eventLog(path), toArray()));
  return path;
}

describe('what-if replay', () => {
  it('reports where a policy would have stopped, as it does live', async () => {
    const path = await loggedRun();
    const result = await lastValueFrom(readEventLog(path).pipe(simulate(stopAfter(3))));
    assert.equal(result.stoppedAt, 5);
    assert.deepEqual(result.stop && { by: result.stop.by, reason: result.stop.reason }, {
      by: 'stopAfter',
      reason: 'loss did not improve for 3 epochs',
    });
    assert.equal(result.reason, 'stopped');
    assert.deepEqual(result.epochs, [0, 1, 2, 3, 4, 5]);
    const live = await lastValueFrom(scriptedRun(losses, { learningRate: 0.1 }).pipe(stopAfter(3), toArray()));
    const liveStop = live.find((e) => e.type === 'stopRequested');
    assert.equal(liveStop?.epoch, result.stoppedAt);
  });

  it('lets the run finish when the policy would not stop it', async () => {
    const path = await loggedRun();
    const result = await lastValueFrom(whatIf(readEventLog(path), stopAfter(10)));
    assert.equal(result.stoppedAt, undefined);
    assert.equal(result.stop, undefined);
    assert.equal(result.reason, 'completed');
    assert.deepEqual(result.epochs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('simulates learning-rate decisions, starting from the logged initial rate', async () => {
    const path = await loggedRun();
    const result = await lastValueFrom(whatIf(readEventLog(path), halveOnRise()));
    assert.deepEqual(result.learningRates, [0.1, 0.1, 0.1, 0.1, 0.05, 0.025, 0.0125, 0.0125, 0.0125, 0.00625]);
    assert.deepEqual(
      result.learningRateChanges.map((c) => [c.epoch, c.to]),
      [
        [3, 0.05],
        [4, 0.025],
        [5, 0.0125],
        [8, 0.00625],
        [9, 0.003125],
      ],
    );
  });

  it('replays the logged batch logs and epoch logs through a live-like run', async () => {
    const path = await loggedRun();
    const logged = await lastValueFrom(readEventLog(path).pipe(toArray()));
    let controlled = 0;
    const simulated = await lastValueFrom(
      replayAsRun(logged).pipe(
        tap((e) => {
          if (controlOf(e) !== undefined) controlled++;
        }),
        toArray(),
      ),
    );
    // Plain fields only: the live copies also carry the run's control under a symbol key.
    const strip = (e: TrainingEvent) => ({ ...Object.fromEntries(Object.entries(e)), runId: undefined, time: undefined, replayed: undefined });
    assert.deepEqual(simulated.map(strip), logged.map(strip));
    assert.equal(controlled, simulated.length, 'every simulated event is live while the run goes on');
    assert.equal(simulated[0]!.runId, 'r/what-if');
  });

  it('refuses events of several runs, naming them', async () => {
    const path = await loggedRun();
    await lastValueFrom(scriptedRun(losses, { runId: 'other' }).pipe(eventLog(path), toArray()));
    await assert.rejects(lastValueFrom(readEventLog(path).pipe(simulate(stopAfter(2)))), /2 runs \(r, other\); select one/);
    const one = await lastValueFrom(readEventLog(path, { runId: 'other' }).pipe(simulate(stopAfter(3))));
    assert.equal(one.stoppedAt, 5);
  });
});
