import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concat, from, lastValueFrom, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { decisionFold, warningOf, type Logs, type TrainingEvent } from '@rxfit/core';
import { scriptedRun, type ScriptedRunOptions } from '@rxfit/core/testing';
import { reduceLROnPlateau, reduceLROnPlateauDecider } from '@rxfit/scheduler';
import { plateauDeciderOf, type PlateauConfig } from '../src/plateau-decider.js';

const f32 = Math.fround;

function close(actual: number | undefined, expected: number, tolerance = 1e-7): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    `expected ${expected}, got ${actual}`,
  );
}

async function run(
  epochs: readonly Logs[],
  operator: MonoTypeOperatorFunction<TrainingEvent>,
  options: ScriptedRunOptions = {},
): Promise<TrainingEvent[]> {
  return lastValueFrom(scriptedRun(epochs, options).pipe(operator, toArray()));
}

/** The rate logged for each epoch (in force during it) and the rate left after the run. */
function rates(events: readonly TrainingEvent[]): { logged: number[]; changes: number[] } {
  const logged = events.flatMap((e) => (e.type === 'epochEnd' ? [e.logs['lr']!] : []));
  const changes = events.flatMap((e) => (e.type === 'learningRateChanged' ? [e.to] : []));
  return { logged, changes };
}

const valLosses = (...values: number[]): Logs[] => values.map((v) => ({ loss: v, val_loss: v }));

describe('reduceLROnPlateau: Keras reduce_lr_on_plateau_test.py', () => {
  it('test_reduces_lr_with_model_fit: patience 1, minDelta 100, 2 epochs → 0.01', async () => {
    const events = await run(
      valLosses(0.5, 0.4),
      reduceLROnPlateau({ patience: 1, factor: 0.1, monitor: 'val_loss', minDelta: 100 }),
      {
        learningRate: 0.1,
      },
    );
    const { logged, changes } = rates(events);
    close(logged[0], 0.1);
    close(logged[1], 0.1);
    assert.equal(changes.length, 1);
    close(changes[0], 0.01);
    const change = events.find((e) => e.type === 'learningRateChanged');
    assert.equal(change?.type === 'learningRateChanged' && change.by, 'reduceLROnPlateau');
    assert.equal(change?.epoch, 1);
  });

  it('test_cooldown: cooldown 2 over 4 epochs → rates 0.1, 0.01, 0.01, 0.001 after each epoch', async () => {
    const events = await run(
      valLosses(0.5, 0.4, 0.3, 0.2),
      reduceLROnPlateau({
        patience: 1,
        factor: 0.1,
        monitor: 'val_loss',
        minDelta: 100,
        cooldown: 2,
      }),
      { learningRate: 0.1 },
    );
    const { logged, changes } = rates(events);
    [0.1, 0.1, 0.01, 0.01].forEach((lr, i) => close(logged[i], lr));
    assert.equal(changes.length, 2);
    close(changes[0], 0.01);
    close(changes[1], 0.001);
    // The rate after each epoch's end: the change events sit between that epochEnd and the next.
    const after: number[] = [];
    let current = 0.1;
    for (const e of events) {
      if (e.type === 'learningRateChanged') {
        current = e.to;
        after[after.length - 1] = current;
      }
      if (e.type === 'epochEnd') after.push(current);
    }
    [0.1, 0.01, 0.01, 0.001].forEach((lr, i) => close(after[i], lr));
  });

  it('without cooldown the same run reduces every epoch after the first', async () => {
    const events = await run(
      valLosses(0.5, 0.4, 0.3, 0.2),
      reduceLROnPlateau({ patience: 1, minDelta: 100 }),
      {
        learningRate: 0.1,
      },
    );
    const { changes } = rates(events);
    [0.01, 0.001, 0.0001].forEach((lr, i) => close(changes[i], lr, 1e-9));
  });

  it('test_honors_min_lr: minDelta 10, minLr 0.005, 4 epochs → 0.1, 0.01, 0.005, 0.005', async () => {
    const events = await run(
      valLosses(0.5, 0.4, 0.3, 0.2),
      reduceLROnPlateau({
        patience: 1,
        factor: 0.1,
        monitor: 'val_loss',
        minDelta: 10,
        minLr: 0.005,
      }),
      { learningRate: 0.1 },
    );
    const { logged, changes } = rates(events);
    [0.1, 0.1, 0.01, 0.005].forEach((lr, i) => close(logged[i], lr));
    assert.deepEqual(changes, [f32(f32(0.1) * 0.1), f32(0.005)]);
  });

  it('an improvement resets wait; patience counts epochs without one', async () => {
    // patience 2, minDelta 0: 1.0 best, 1.0 (wait 1), 0.9 best, 0.95 (1), 0.95 (2 → reduce)
    const events = await run(
      valLosses(1, 1, 0.9, 0.95, 0.95),
      reduceLROnPlateau({ patience: 2, minDelta: 0 }),
      {
        learningRate: 0.1,
      },
    );
    const change = events.find((e) => e.type === 'learningRateChanged');
    assert.equal(change?.epoch, 4);
    close(change?.type === 'learningRateChanged' ? change.to : undefined, 0.01);
  });

  it("mode 'auto' maximises val_acc and minimises val_loss", async () => {
    const rising = [0.5, 0.6, 0.7, 0.8].map((acc) => ({ loss: 1, val_acc: acc }));
    const falling = [0.8, 0.7, 0.6, 0.5].map((acc) => ({ loss: 1, val_acc: acc }));
    const op = () => reduceLROnPlateau({ monitor: 'val_acc', patience: 1, minDelta: 0 });
    assert.deepEqual(rates(await run(rising, op(), { learningRate: 0.1 })).changes, []);
    assert.equal(rates(await run(falling, op(), { learningRate: 0.1 })).changes.length, 3);
    const loss = (...v: number[]) => v.map((x) => ({ loss: x }));
    assert.deepEqual(
      rates(
        await run(loss(3, 2, 1), reduceLROnPlateau({ monitor: 'loss', patience: 1, minDelta: 0 })),
      ).changes,
      [],
    );
    // mode 'max' on a loss that falls: every epoch after the first is a plateau.
    const max = await run(
      loss(3, 2, 1),
      reduceLROnPlateau({ monitor: 'loss', patience: 1, minDelta: 0, mode: 'max' }),
    );
    assert.equal(rates(max).changes.length, 2);
  });

  it('a monitor the run does not log fails the run at trainBegin, naming the closest key', async () => {
    await assert.rejects(
      run([{ loss: 1, val_loss: 1 }], reduceLROnPlateau({ monitor: 'val_los' })),
      /reduceLROnPlateau: monitor 'val_los' is not logged by this run\. Did you mean 'val_loss'\?/,
    );
  });

  it("missingMonitor 'warn': a missing monitor gives exactly one warning event and no reduction (Keras)", async () => {
    const events = await run(
      [{ loss: 1 }, { loss: 1 }, { loss: 1 }],
      reduceLROnPlateau({ monitor: 'val_loss', patience: 0, missingMonitor: 'warn' }),
    );
    const warnings = events.flatMap((e) => {
      const w = warningOf(e);
      return w ? [w] : [];
    });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.by, 'reduceLROnPlateau');
    assert.match(
      warnings[0]?.message ?? '',
      /`val_loss` which is not available\. Available metrics are: loss,lr\./,
    );
    assert.deepEqual(rates(events).changes, []);
  });

  it('state lives per subscription: one instance serves two runs alike', async () => {
    const op = reduceLROnPlateau({ patience: 1, minDelta: 100, cooldown: 2 });
    const first = rates(await run(valLosses(1, 1, 1, 1), op, { learningRate: 0.1 })).changes;
    const second = rates(await run(valLosses(1, 1, 1, 1), op, { learningRate: 0.1 })).changes;
    assert.deepEqual(second, first);
    assert.equal(first.length, 2);
  });

  it('replayed events rebuild wait, cooldown and best, and change nothing', async () => {
    const op = () => reduceLROnPlateau({ patience: 2, minDelta: 0 });
    const script = valLosses(1, 0.5, 0.6, 0.7, 0.8, 0.9);
    // The uninterrupted run: best 0.5 at epoch 1, wait 1 at 2, reduce at 3, wait 1 at 4, reduce at 5.
    const whole = await run(script, op(), { learningRate: 0.1, runId: 'r' });
    const wholeChanges = whole.filter((e) => e.type === 'learningRateChanged').map((e) => e.epoch);
    assert.deepEqual(wholeChanges, [3, 5]);
    // Crash after epoch 3: replay epochs 0-3 (with the reduction), resume at epoch 4 with the
    // reduced rate.
    const cut = whole.findIndex((e) => e.type === 'epochBegin' && e.epoch === 4);
    const replayed = whole
      .slice(0, cut)
      .map((e) => Object.freeze({ ...e, replayed: true as const }));
    const resumed = await lastValueFrom(
      concat(
        from(replayed),
        scriptedRun(script, {
          learningRate: f32(0.01),
          runId: 'r',
          initialEpoch: 4,
          firstSeq: cut,
        }),
      ).pipe(op(), toArray()),
    );
    const live = resumed.filter((e) => !e.replayed);
    assert.deepEqual(
      live.filter((e) => e.type === 'learningRateChanged').map((e) => e.epoch),
      [5],
      'the resumed run reduces at epoch 5, as the uninterrupted one',
    );
    assert.equal(
      resumed.filter((e) => e.replayed && e.type === 'learningRateChanged').length,
      1,
      'only the logged change',
    );
    // Without the replay, a fresh run from epoch 4 would wait two epochs from its own best.
    const fresh = await run(script, op(), { learningRate: 0.01, runId: 'r', initialEpoch: 4 });
    assert.deepEqual(
      fresh.filter((e) => e.type === 'learningRateChanged').map((e) => e.epoch),
      [],
    );
  });

  it('validates options when called, naming the option and value', () => {
    assert.throws(() => reduceLROnPlateau({ factor: 1 }), /factor must be < 1.*got 1/);
    assert.throws(() => reduceLROnPlateau({ factor: -0.1 }), /factor.*-0.1/);
    assert.throws(
      () => reduceLROnPlateau({ patience: -1 }),
      /patience must be an integer >= 0, got -1/,
    );
    assert.throws(() => reduceLROnPlateau({ cooldown: 0.5 }), /cooldown/);
    assert.throws(() => reduceLROnPlateau({ minLr: -1 }), /minLr/);
    assert.throws(() => reduceLROnPlateau({ minDelta: Number.NaN }), /minDelta/);
    assert.throws(
      () => reduceLROnPlateau({ mode: 'up' as 'max' }),
      /mode must be one of 'auto', 'min', 'max', got "up"/,
    );
    assert.throws(() => reduceLROnPlateau({ monitor: '' }), /monitor must be a non-empty/);
    // Decided when the run's keys are known ('lr' might have been a typo); see monitorCheck.
    assert.doesNotThrow(() => reduceLROnPlateau({ monitor: 'lr' }));
    assert.throws(() => reduceLROnPlateau({ min_lr: 0.1 } as never), /unknown option 'min_lr': rxfit options are camelCase, did you mean 'minLr'/);
    assert.doesNotThrow(() => reduceLROnPlateau({ monitor: 'lr', mode: 'min' }));
  });
});

describe('reduceLROnPlateau decider', () => {
  const config: PlateauConfig = {
    monitor: 'val_loss',
    direction: 'min',
    factor: 0.1,
    patience: 1,
    minDelta: 0,
    cooldown: 2,
    minLr: 0,
  };
  const epochEnd = (epoch: number, logs: Logs): TrainingEvent =>
    Object.freeze({ runId: 'r', seq: epoch, time: 0, type: 'epochEnd', epoch, logs });
  const trainBegin: TrainingEvent = Object.freeze({
    runId: 'r2',
    seq: 0,
    time: 0,
    type: 'trainBegin',
    params: { epochs: 1, initialEpoch: 0, metrics: [] },
  });

  const decider = plateauDeciderOf(config);

  it('a replayed or live trainBegin of the run being replayed continues its state (a log resumed twice)', () => {
    const replayedBegin = Object.freeze({ ...trainBegin, runId: 'r', replayed: true as const });
    const fold = decisionFold(decider);
    fold.next(replayedBegin);
    fold.next(Object.freeze({ ...epochEnd(0, { val_loss: 1, lr: 0.1 }), replayed: true as const }));
    fold.next(replayedBegin);
    assert.equal(fold.state.best, 1, 'the second replayed trainBegin keeps the best');
    fold.next(Object.freeze({ ...trainBegin, runId: 'r' }));
    assert.equal(fold.state.best, 1, 'the live continuation keeps it too');
  });

  it('test_state_reset_across_fit_calls: another run starts with no best, wait or cooldown', () => {
    const fold = decisionFold(decider);
    for (const loss of [0.5, 0.6, 0.7]) fold.next(epochEnd(0, { val_loss: loss, lr: 0.1 }));
    assert.notDeepEqual(fold.state, decider.initialState());
    fold.next(trainBegin);
    assert.deepEqual(fold.state, decider.initialState());
    assert.equal(fold.state.best, undefined);
  });

  it('reduceLROnPlateauDecider takes the operator options, validated the same way', () => {
    const fold = decisionFold(reduceLROnPlateauDecider({ monitor: 'val_loss', patience: 1 }));
    const commands = [1, 2].flatMap((loss, epoch) => fold.next(epochEnd(epoch, { val_loss: loss, lr: 0.1 })));
    assert.deepEqual(commands, [{ type: 'reduce', from: f32(0.1), to: f32(f32(0.1) * 0.1) }]);
    assert.throws(() => reduceLROnPlateauDecider({ min_lr: 0.1 } as never), /unknown option 'min_lr'/);
  });

  it('MonitorCallback min_delta: max mode needs current - minDelta > best, strictly', () => {
    const max: PlateauConfig = {
      ...config,
      monitor: 'val_acc',
      direction: 'max',
      minDelta: 0.5,
      patience: 5,
    };
    const from = (best: number | undefined, current: number) =>
      plateauDeciderOf(max).decide({ ...decider.initialState(), best }, epochEnd(0, { val_acc: current, lr: 1 })).state.best;
    assert.equal(from(0, 0.75), 0.75);
    assert.equal(from(undefined, 0.5), 0.5);
    assert.equal(from(0, 0.5), 0);
    assert.equal(from(0.5, 0.2), 0.5);
  });

  it('reduction: float32 rates, compared with float32(minLr), floored at minLr', () => {
    const start = { ...decider.initialState(), best: 1 };
    const step = decider.decide(start, epochEnd(3, { val_loss: 2, lr: 0.1 }));
    assert.deepEqual(step.commands, [{ type: 'reduce', from: f32(0.1), to: f32(f32(0.1) * 0.1) }]);
    assert.equal(step.state.cooldownCounter, 2);
    assert.equal(step.state.wait, 0);
    const floored = plateauDeciderOf({ ...config, minLr: 0.05 });
    const floor = floored.decide(start, epochEnd(3, { val_loss: 2, lr: 0.1 })).commands;
    assert.deepEqual(floor, [{ type: 'reduce', from: f32(0.1), to: f32(0.05) }]);
    // At the floor already (as float32): no reduction, and no cooldown either.
    const atFloor = floored.decide(start, epochEnd(3, { val_loss: 2, lr: f32(0.05) }));
    assert.deepEqual(atFloor.commands, []);
    assert.equal(atFloor.state.cooldownCounter, 0);
    assert.equal(atFloor.state.wait, 1);
  });

  it('a replayed NaN (null in JSON) counts as no improvement', () => {
    const logs = { val_loss: null as unknown as number, lr: 0.1 };
    const step = plateauDeciderOf({ ...config, patience: 5 }).decide(
      { ...decider.initialState(), best: 1 },
      epochEnd(1, logs),
    );
    assert.equal(step.state.wait, 1);
    assert.deepEqual(step.commands, []);
  });

  it('test_state_reset_across_fit_calls with a reused run id: two live runs in one stream', async () => {
    // scriptedRun's runId defaults to 'scripted-run': the second run is another fit under the same id.
    const first = scriptedRun([{ val_loss: 1 }, { val_loss: 2 }, { val_loss: 2 }], { learningRate: 0.1 });
    const second = scriptedRun([{ val_loss: 5 }, { val_loss: 4 }], { learningRate: 0.1 });
    const events = await lastValueFrom(
      concat(first, second).pipe(reduceLROnPlateau({ monitor: 'val_loss', patience: 2 }), toArray()),
    );
    // Which run (1st or 2nd trainBegin so far) each change falls in, and at which epoch.
    const changes = events.flatMap((e, i) =>
      e.type === 'learningRateChanged'
        ? [`run ${events.slice(0, i).filter((b) => b.type === 'trainBegin').length} @ epoch ${e.epoch}`]
        : [],
    );
    // Only the first run plateaus (epoch 2); the second improves from its own first epoch.
    assert.deepEqual(changes, ['run 1 @ epoch 2']);
  });
});
