import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isImprovement, monitorDirection } from '@rxfit/core/operator-kit';
import { decisionFold } from '@rxfit/core';
import { earlyStoppingDecider, type EarlyStoppingOptions } from '@rxfit/early-stopping';
import { earlyStoppingConfig } from '../src/early-stopping.js';
import { epochEvents, KERAS_LOSSES, KERAS_PATIENCE_STOPS, makeEvent, runDecider } from './helpers.js';

describe('earlyStoppingDecider: Keras scenarios', () => {
  // Keras early_stopping_test.py::test_early_stopping_patience: stopped_epoch == max(patience, 1) + 2.
  for (const [patience, expected] of KERAS_PATIENCE_STOPS) {
    it(`S1: losses ${KERAS_LOSSES.join(',')} with patience ${patience} stop at epoch ${expected}`, () => {
      const run = runDecider({ monitor: 'loss', patience }, KERAS_LOSSES);
      assert.equal(run.stoppedEpoch, expected);
      assert.equal(run.stoppedEpoch, Math.max(patience, 1) + 2);
    });
  }

  it('S2: val_loss 0.2, 0.15, 0.1, 0.11, 0.12 with patience 2 stops at epoch 4, best epoch 2', () => {
    const run = runDecider({ patience: 2, restoreBestWeights: true }, [0.2, 0.15, 0.1, 0.11, 0.12]);
    assert.equal(run.stoppedEpoch, 4);
    assert.equal(run.epochsRun, 5);
    assert.equal(run.state.bestEpoch, 2);
    assert.equal(run.state.best, 0.1);
    const improvedAt = run.commands.flatMap((d) =>
      d.kind === 'monitored' && d.improved ? [d.epoch] : [],
    );
    assert.deepEqual(improvedAt, [0, 1, 2]);
  });

  it('S3: nothing beats baseline 0.5: patience 5 runs exactly 5 epochs, best epoch 2', () => {
    const run = runDecider(
      { patience: 5, baseline: 0.5, restoreBestWeights: true },
      [0.9, 0.8, 0.7, 0.71, 0.72, 0.73],
    );
    assert.equal(run.epochsRun, 5);
    assert.equal(run.stoppedEpoch, 4);
    assert.equal(run.state.bestEpoch, 2);
    const stop = run.commands.find((d) => d.kind === 'stop');
    assert.ok(stop?.kind === 'stop');
    assert.match(stop.reason, /did not beat the baseline 0\.5 in 5 epochs/);
    assert.deepEqual(stop.details, {
      cause: 'patience',
      monitor: 'val_loss',
      value: 0.72,
      best: 0.7,
      bestEpoch: 2,
      patience: 5,
      wait: 5,
      baseline: 0.5,
    });
  });

  it('baseline: a value that beats it resets the count; improvements that do not, do not', () => {
    // 0.6, 0.55 improve but stay above 0.5 (wait 1, 2); 0.4 beats it (wait 0); then 3 misses with patience 3.
    const run = runDecider(
      { patience: 3, baseline: 0.5 },
      [0.6, 0.55, 0.4, 0.45, 0.46, 0.47, 0.48],
    );
    assert.equal(run.stoppedEpoch, 5);
    // Improvements above the baseline never stop the run, even once the count passes patience.
    assert.equal(
      runDecider({ patience: 2, baseline: 0.5 }, [0.6, 0.55, 0.54, 0.53, 0.52]).stoppedEpoch,
      undefined,
    );
    // ...and the count grows through improvements above the baseline: stops at the first miss once wait >= 2.
    assert.equal(runDecider({ patience: 2, baseline: 0.5 }, [0.6, 0.55, 0.56]).stoppedEpoch, 2);
  });

  it('S7: isImprovement in max mode with minDelta 0.5 (monitor_callback_test::test_min_delta)', () => {
    assert.equal(isImprovement('max', 0.5, 0.75, 0), true);
    assert.equal(isImprovement('max', 0.5, 0.5, undefined), true);
    assert.equal(isImprovement('max', 0.5, 0.5, 0), false);
    assert.equal(isImprovement('max', 0.5, 0.2, 0.5), false);
    assert.equal(isImprovement('min', 0.5, 0.4, 1), true);
    assert.equal(isImprovement('min', 0.5, 0.5, 1), false, 'the comparison is strict');
  });

  it('minDelta: changes smaller than minDelta are no improvement; its sign is ignored', () => {
    // Each step improves by 0.5 < 1: from epoch 1 on nothing counts; patience 2 stops at epoch 2.
    assert.equal(
      runDecider({ monitor: 'loss', minDelta: 1, patience: 2 }, [10, 9.5, 9, 8.5, 8]).stoppedEpoch,
      2,
    );
    assert.equal(
      runDecider({ monitor: 'loss', minDelta: -1, patience: 2 }, [10, 9.5, 9, 8.5, 8]).stoppedEpoch,
      2,
    );
    assert.equal(
      runDecider({ monitor: 'loss', minDelta: 0.4, patience: 2 }, [10, 9.5, 9, 8.5, 8])
        .stoppedEpoch,
      undefined,
    );
    // tfjs' callbacks_test "custom minDelta": 10 → 8 → 7.5 stops with minDelta 1, patience 0.
    assert.equal(runDecider({ minDelta: 1 }, [10, 8, 7.5]).stoppedEpoch, 2);
    // tfjs "negative minDelta", max mode: 100 → 120 → 122 stops.
    assert.equal(
      runDecider({ monitor: 'val_acc', mode: 'max', minDelta: -5 }, [100, 120, 122]).stoppedEpoch,
      2,
    );
  });

  it('C1: the default monitor val_loss, 10, 9, 9.5 stops at epoch 2', () => {
    assert.equal(runDecider({}, [10, 9, 9.5]).stoppedEpoch, 2);
  });

  it('C4: Lightning patience scenarios give the same epochs', () => {
    assert.equal(runDecider({ patience: 3 }, [6, 5, 5, 5, 5, 5]).stoppedEpoch, 4);
    assert.equal(runDecider({ patience: 1 }, [6, 5, 4, 4, 3, 3]).stoppedEpoch, 3);
    assert.equal(runDecider({ patience: 3 }, [6, 5, 6, 5, 5, 5]).stoppedEpoch, 4);
  });

  it('mode max: a rising metric keeps going, a falling one stops', () => {
    assert.equal(
      runDecider({ monitor: 'val_acc', patience: 1 }, [0.5, 0.6, 0.7, 0.8]).stoppedEpoch,
      undefined,
    );
    assert.equal(
      runDecider({ monitor: 'val_acc', patience: 1 }, [0.5, 0.6, 0.55, 0.8]).stoppedEpoch,
      2,
    );
    assert.equal(
      runDecider({ monitor: 'loss', mode: 'max', patience: 0 }, [1, 0.5]).stoppedEpoch,
      1,
    );
  });

  it('startFromEpoch: earlier epochs are ignored entirely', () => {
    // Without it, 10 → 11 stops at epoch 1; with startFromEpoch 2 the count starts at epoch 2.
    assert.equal(runDecider({ monitor: 'loss' }, [10, 11, 12, 13, 14]).stoppedEpoch, 1);
    const run = runDecider(
      { monitor: 'loss', startFromEpoch: 2, patience: 1 },
      [10, 11, 12, 13, 14],
    );
    assert.equal(run.stoppedEpoch, 3);
    assert.equal(run.state.bestEpoch, 2);
    assert.equal(run.state.best, 12);
    // Keras test_early_stopping_with_start_from_epoch: at least start + patience epochs run.
    assert.ok(
      runDecider({ monitor: 'mse', startFromEpoch: 2, patience: 3 }, Array(20).fill(1)).epochsRun >=
        5,
    );
    assert.ok(
      runDecider({ monitor: 'mse', startFromEpoch: 2, patience: 0 }, Array(20).fill(1)).epochsRun >=
        2,
    );
  });

  it('patience never stops epoch 0 (Keras epoch > 0 guard)', () => {
    // Only a first value that is no improvement can reach the guard: a NaN with checkFinite off.
    const run = runDecider({ monitor: 'loss', patience: 0, checkFinite: false }, [NaN, 1, 2]);
    assert.deepEqual(
      run.commands.map((d) => (d.kind === 'monitored' ? `${d.epoch}:${d.improved}` : d.kind)),
      ['0:false', '1:true', '2:false', 'stop'],
    );
    assert.equal(run.stoppedEpoch, 2);
  });

  it('improvements never stop the run, even when the count passes patience under a baseline', () => {
    const run = runDecider({ patience: 0, baseline: 0.1 }, [0.5, 0.4, 0.3, 0.35]);
    assert.equal(run.stoppedEpoch, 3);
    assert.equal(run.state.wait, 4);
  });

  it('a missing monitor warns once per run and never stops', () => {
    const run = runDecider({ patience: 0 }, [undefined, undefined, undefined]);
    assert.equal(run.stoppedEpoch, undefined);
    const warnings = run.commands.filter((d) => d.kind === 'warnMissingMonitor');
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]?.kind === 'warnMissingMonitor');
    assert.equal(
      warnings[0].message,
      "Early stopping conditioned on metric 'val_loss' which is not available. Available metrics are: other",
    );
    // Epochs without the monitor do not count toward patience.
    assert.equal(runDecider({ patience: 1 }, [1, undefined, undefined, 2]).stoppedEpoch, 3);
  });
});

describe('earlyStoppingDecider: Lightning thresholds and finite check', () => {
  it('C5: default patience 3 on 8,4,2,3,4,5,8,10 stops at epoch 5', () => {
    assert.equal(
      runDecider({ monitor: 'loss', patience: 3 }, [8, 4, 2, 3, 4, 5, 8, 10]).stoppedEpoch,
      5,
    );
  });

  it('C5: stoppingThreshold 2.9 on 9,8,7,6,5,6,4,3,2,1 stops at epoch 8, strictly better only', () => {
    const run = runDecider(
      { monitor: 'loss', patience: 3, stoppingThreshold: 2.9 },
      [9, 8, 7, 6, 5, 6, 4, 3, 2, 1],
    );
    assert.equal(run.stoppedEpoch, 8);
    const stop = run.commands.find((d) => d.kind === 'stop');
    assert.ok(stop?.kind === 'stop');
    assert.equal(stop.cause, 'stoppingThreshold');
    assert.equal(stop.details['threshold'], 2.9);
    // The epoch that reaches the threshold is also the new best (its weights are the ones to keep).
    assert.equal(run.state.bestEpoch, 8);
    assert.equal(
      runDecider({ monitor: 'loss', patience: 3, stoppingThreshold: 3 }, [4, 3, 2]).stoppedEpoch,
      2,
    );
  });

  it('C5: divergenceThreshold 15.9 on 9,4,2,16,32,64 stops at epoch 3', () => {
    const run = runDecider(
      { monitor: 'loss', patience: 3, divergenceThreshold: 15.9 },
      [9, 4, 2, 16, 32, 64],
    );
    assert.equal(run.stoppedEpoch, 3);
    const stop = run.commands.find((d) => d.kind === 'stop');
    assert.ok(stop?.kind === 'stop');
    assert.equal(stop.cause, 'divergenceThreshold');
    assert.match(stop.reason, /loss = 16 is worse than divergenceThreshold 15\.9/);
    // Thresholds are not subject to the epoch > 0 guard.
    assert.equal(
      runDecider({ monitor: 'loss', divergenceThreshold: 15.9 }, [20, 1]).stoppedEpoch,
      0,
    );
    // In max mode "worse" means lower.
    assert.equal(
      runDecider({ monitor: 'acc', patience: 5, divergenceThreshold: 0.2 }, [0.5, 0.3, 0.1])
        .stoppedEpoch,
      2,
    );
  });

  for (const bad of [Infinity, NaN, -Infinity]) {
    it(`C6: checkFinite stops at the epoch whose monitor is ${bad}`, () => {
      const run = runDecider({ monitor: 'loss', patience: 3 }, [4, 3, bad, 2, 1]);
      assert.equal(run.stoppedEpoch, 2);
      const stop = run.commands.find((d) => d.kind === 'stop');
      assert.ok(stop?.kind === 'stop');
      assert.equal(stop.cause, 'nonFinite');
      assert.equal(run.state.best, 3, 'a non-finite value is never the best');
    });
  }

  it('checkFinite: false: a non-finite value only counts as no improvement', () => {
    assert.equal(
      runDecider({ monitor: 'loss', patience: 3, checkFinite: false }, [4, 3, NaN, 2, 1])
        .stoppedEpoch,
      undefined,
    );
    assert.equal(
      runDecider({ monitor: 'loss', patience: 1, checkFinite: false }, [4, 3, NaN, 2]).stoppedEpoch,
      2,
    );
    // A first NaN is not taken as the best (Keras would, and never improve again).
    const run = runDecider({ monitor: 'loss', patience: 1, checkFinite: false }, [NaN, 3, 2]);
    assert.equal(run.stoppedEpoch, undefined);
    assert.equal(run.state.best, 2);
  });
});

describe('earlyStoppingDecider: runs, resumes and ends', () => {
  const decider = earlyStoppingDecider({ monitor: 'loss', patience: 2, restoreBestWeights: true });

  it('an event of another run resets the state (Keras on_train_begin); a resumed run continues', () => {
    const fold = decisionFold(decider);
    // The replayed log of run a, then its live trainBegin: a resume.
    for (const event of epochEvents([{ loss: 3 }, { loss: 2 }, { loss: 2.5 }], { runId: 'a', replayed: true })) {
      fold.next(event);
    }
    const counted = fold.state;
    assert.equal(counted.wait, 1);
    assert.equal(counted.best, 2);
    fold.next(
      makeEvent({ type: 'trainBegin', params: { epochs: 5, initialEpoch: 3, metrics: [] } }, 4, {
        runId: 'a',
      }),
    );
    assert.equal(fold.state, counted);
    fold.next(
      makeEvent({ type: 'trainBegin', params: { epochs: 5, initialEpoch: 0, metrics: [] } }, 0, {
        runId: 'b',
      }),
    );
    assert.deepEqual(fold.state, decider.initialState());
    assert.equal(fold.runId, 'b');
  });

  it('trainEnding asks to restore the weights (a failed run has none); trainEnd decides nothing', () => {
    const ending = (reason: 'completed' | 'stopped') =>
      decider.decide(decider.initialState(), makeEvent({ type: 'trainEnding', epoch: 3, reason }, 9)).commands;
    assert.deepEqual(ending('completed'), [{ kind: 'restoreBestWeights' }]);
    assert.deepEqual(ending('stopped'), [{ kind: 'restoreBestWeights' }]);
    for (const reason of ['completed', 'stopped', 'failed'] as const) {
      assert.deepEqual(
        decider.decide(decider.initialState(), makeEvent({ type: 'trainEnd', epoch: 3, reason }, 10)).commands,
        [],
      );
    }
    const noRestore = earlyStoppingDecider({ monitor: 'loss' });
    assert.deepEqual(
      noRestore.decide(
        noRestore.initialState(),
        makeEvent({ type: 'trainEnding', epoch: 3, reason: 'stopped' }, 9),
      ).commands,
      [],
    );
  });

  it('replayed events fold into the state exactly as live ones', () => {
    const foldAll = (replayed: boolean) => {
      const fold = decisionFold(decider);
      for (const event of epochEvents(
        KERAS_LOSSES.slice(0, 5).map((loss) => ({ loss })),
        { replayed },
      )) {
        fold.next(event);
      }
      return fold.state;
    };
    assert.deepEqual(foldAll(true), foldAll(false));
    assert.equal(foldAll(true).wait, 2);
    assert.equal(foldAll(true).stoppedEpoch, 4);
  });
});

describe('mode auto (monitorDirection) and option validation', () => {
  // The name rules themselves are core's monitorDirection (tested there); here: the wiring.
  for (const monitor of ['val_loss', 'loss', 'val_acc', 'val_accuracy', 'auc', 'val_mse']) {
    it(`auto: ${monitor} → ${monitorDirection(monitor)}`, () => {
      assert.equal(earlyStoppingConfig({ monitor }).direction, monitorDirection(monitor));
    });
  }

  it('explicit mode wins over the name', () => {
    assert.equal(earlyStoppingConfig({ monitor: 'val_mse', mode: 'max' }).direction, 'max');
    assert.equal(earlyStoppingConfig({ monitor: 'unknown', mode: 'min' }).direction, 'min');
  });

  it('auto mode with a name it cannot read leaves the direction to the run (it may be a typo)', () => {
    assert.equal(earlyStoppingConfig({ monitor: 'unknown' }).settings.direction, undefined);
  });

  it("an unknown option names the closest one; Keras' snake_case gets its camelCase spelling", () => {
    assert.throws(() => earlyStoppingConfig({ restore_best_weights: true } as EarlyStoppingOptions), {
      name: 'TypeError',
      message: /earlyStopping: unknown option 'restore_best_weights': rxfit options are camelCase, did you mean 'restoreBestWeights' \(Keras' restore_best_weights\)\?/,
    });
    assert.throws(() => earlyStoppingConfig({ patiense: 3 } as EarlyStoppingOptions), /unknown option 'patiense': did you mean 'patience'\?/);
  });

  const bad: [EarlyStoppingOptions, RegExp][] = [
    [{ monitor: '' }, /monitor must be a non-empty string/],
    [{ patience: -1 }, /patience must be an integer >= 0, got -1/],
    [{ patience: 1.5 }, /patience must be an integer >= 0, got 1.5/],
    [{ minDelta: NaN }, /minDelta must be a finite number/],
    [{ mode: 'up' as 'min' }, /mode must be one of 'auto', 'min', 'max', got "up"/],
    [{ baseline: Infinity }, /baseline must be a finite number/],
    [
      { restoreBestWeights: 'yes' as unknown as boolean },
      /restoreBestWeights must be a boolean, got "yes"/,
    ],
    [{ startFromEpoch: -2 }, /startFromEpoch must be an integer >= 0, got -2/],
    [{ stoppingThreshold: NaN }, /stoppingThreshold must be a finite number/],
    [{ divergenceThreshold: Infinity }, /divergenceThreshold must be a finite number/],
    [{ checkFinite: 1 as unknown as boolean }, /checkFinite must be a boolean, got 1/],
    [{ min_delta: 0.1 } as EarlyStoppingOptions, /unknown option 'min_delta'/],
  ];
  for (const [options, message] of bad) {
    it(`rejects ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => earlyStoppingConfig(options),
        (error: Error) => {
          assert.ok(error instanceof RangeError || error instanceof TypeError);
          assert.match(error.message, /^earlyStopping: /);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('earlyStoppingDecider: a what-if over a recorded run that went on', () => {
  it('stoppedEpoch is the first stop, though the recording has more epochs', () => {
    const fold = decisionFold(earlyStoppingDecider({ monitor: 'loss', patience: 2 }));
    const losses = [1, 0.8, 0.7, 0.71, 0.72, 0.73, 0.69, 0.7, 0.71, 0.72];
    const stops = epochEvents(losses.map((loss) => ({ loss })), { replayed: true })
      .flatMap((event) => fold.next(event))
      .filter((command) => command.kind === 'stop');
    assert.ok(stops.length > 1, 'the fold decides to stop again at later epochs');
    assert.equal(fold.state.stoppedEpoch, 4);
  });
});
