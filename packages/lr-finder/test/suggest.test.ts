import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  gradient,
  minimum,
  steepest,
  suggestLearningRates,
  sweepDecider,
  sweepLearningRate,
  valley,
  type SweepCommand,
  type SweepSettings,
} from '@rxfit/lr-finder';
import { decisionFold, type TrainingEvent } from '@rxfit/core';

/** A range test's typical curve: flat, a descent, a valley, then divergence; with a ripple. */
const n = 100;
const lrs = Array.from({ length: n }, (_, i) =>
  sweepLearningRate({ minLr: 1e-7, maxLr: 10, numSteps: n }, i),
);
const losses = lrs.map(
  (_, i) =>
    2.3 -
    1.8 / (1 + Math.exp(-(i - 45) / 6)) +
    (i > 70 ? 0.002 * i : 0) +
    (i > 80 ? 0.5 * Math.exp((i - 85) / 3) : 0) +
    0.01 * Math.sin(i * 1.7),
);

describe('suggestion rules', () => {
  it('gradient is numpy.gradient / torch.gradient on an uneven grid', () => {
    // numpy.gradient([1, 2, 0, 5, 3], [0, 1, 3, 4, 7])
    const expected = [
      1.0, 0.33333333333333337, 2.9999999999999996, 3.583333333333333, -0.6666666666666666,
    ];
    gradient([1, 2, 0, 5, 3], [0, 1, 3, 4, 7]).forEach((value, i) =>
      assert.ok(Math.abs(value - expected[i]!) < 1e-12),
    );
  });

  it("pick the indices that Lightning's and fastai's code picks on the same curve", () => {
    // Computed with numpy and fastai's valley/minimum code on this curve.
    assert.deepEqual(steepest(lrs, losses), { index: 13, learningRate: lrs[13] });
    assert.deepEqual(minimum(lrs, losses, n), { index: 69, learningRate: lrs[69]! / 10 });
    assert.deepEqual(valley(lrs, losses, n), { index: 43, learningRate: lrs[43] });
  });

  it("steepest skips non-finite losses; fastai's rules stop at the first NaN; too short a curve gives undefined", () => {
    const withNaN = losses.map((loss, i) => (i === 60 ? NaN : loss));
    assert.equal(minimum(lrs, withNaN, n)!.index, 59);
    assert.notEqual(steepest(lrs, withNaN), undefined);
    assert.deepEqual(suggestLearningRates(lrs.slice(0, 8), losses.slice(0, 8), n), {
      steepest: undefined,
      minimum: undefined,
      valley: undefined,
    });
  });
});

const settings: SweepSettings = {
  minLr: 1e-4,
  maxLr: 1,
  numSteps: 5,
  beta: 0.5,
  divergenceFactor: 4,
};
let seq = 0;
const batch = (type: 'batchBegin' | 'batchEnd', loss?: number): TrainingEvent =>
  type === 'batchBegin'
    ? { type, epoch: 0, batch: 0, runId: 'r', seq: seq++, time: 0 }
    : { type, epoch: 0, batch: 0, logs: { loss: loss!, size: 1 }, runId: 'r', seq: seq++, time: 0 };

function sweep(rawLosses: number[], s: SweepSettings = settings) {
  const fold = decisionFold(sweepDecider(s));
  const commands: SweepCommand[] = [];
  for (const loss of rawLosses) {
    for (const event of [batch('batchBegin'), batch('batchEnd', loss)]) commands.push(...fold.next(event));
  }
  return { state: fold.state, commands };
}

describe('the sweep decider', () => {
  it('sets an exponential learning rate before each batch, minLr first and maxLr last', () => {
    const { state, commands } = sweep([1, 1, 1, 1, 1]);
    const expected = [1e-4, 1e-3, 1e-2, 1e-1, 1];
    state.learningRates.forEach((lr, i) => assert.ok(Math.abs(lr / expected[i]! - 1) < 1e-12));
    assert.equal(state.learningRates.at(-1), 1);
    assert.equal(
      commands.filter((c) => (c as { type: string }).type === 'setLearningRate').length,
      5,
    );
    assert.equal(state.stoppedBy, 'numSteps');
    assert.deepEqual(commands.at(-1), {
      type: 'stop',
      reason: 'swept 5 learning rates up to 1',
      details: { step: 4 },
    });
  });

  it('smooths the loss with the debiased moving average (a constant loss stays constant)', () => {
    const { state } = sweep([2, 2, 2]);
    state.losses.forEach((loss) => assert.ok(Math.abs(loss - 2) < 1e-12));
    const two = sweep([1, 3]).state.losses;
    // avg1 = 0.5, smoothed 0.5 / 0.5 = 1; avg2 = 0.25 + 1.5 = 1.75, smoothed 1.75 / 0.75.
    assert.deepEqual(two, [1, 1.75 / 0.75]);
  });

  it('stops when the smoothed loss exceeds divergenceFactor × the best, or is not finite', () => {
    const diverged = sweep([1, 1, 20, 1, 1]);
    assert.equal(diverged.state.stoppedBy, 'diverged');
    assert.equal(
      diverged.state.losses.length,
      3,
      'the diverged point is part of the curve, as in both anchors',
    );
    assert.match(
      JSON.stringify(diverged.commands.at(-1)),
      /smoothed loss diverged at learning rate 0\.01/,
    );
    assert.equal(sweep([1, NaN, 1]).state.stoppedBy, 'diverged');
    assert.equal(
      sweep([1, 1, 20, 1, 1], { ...settings, divergenceFactor: undefined }).state.stoppedBy,
      'numSteps',
    );
  });
});
