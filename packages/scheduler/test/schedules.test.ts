import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cosineDecay,
  exponentialDecay,
  oneCycle,
  stepDecay,
  type Schedule,
} from '@rxfit/scheduler';

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

function values(schedule: Schedule, epochs: number): number[] {
  return Array.from({ length: epochs }, (_, epoch) => schedule(epoch, 123));
}

describe('exponentialDecay', () => {
  it('is initial * rate ^ (epoch / decaySteps), as Keras', () => {
    const s = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    close(s(0, 1), 0.1);
    close(s(5, 1), 0.1 * Math.sqrt(0.5));
    close(s(10, 1), 0.05);
    close(s(20, 1), 0.025);
  });
  it('decays in whole steps with staircase', () => {
    const s = exponentialDecay({
      initialLearningRate: 0.1,
      decaySteps: 10,
      decayRate: 0.5,
      staircase: true,
    });
    close(s(9, 1), 0.1);
    close(s(10, 1), 0.05);
    close(s(19, 1), 0.05);
  });
  it('rejects bad options by name', () => {
    assert.throws(
      () => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }),
      /decaySteps.*got 0/,
    );
    assert.throws(
      () => exponentialDecay({ initialLearningRate: -1, decaySteps: 1, decayRate: 0.5 }),
      /initialLearningRate/,
    );
    assert.throws(
      () => exponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: Number.NaN }),
      /decayRate/,
    );
    assert.throws(
      () =>
        exponentialDecay({
          initialLearningRate: 1,
          decaySteps: 1,
          decayRate: 1,
          staircase: 'yes' as unknown as boolean,
        }),
      /staircase must be a boolean/,
    );
    assert.throws(
      () => exponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 1 })(-1, 1),
      /epoch.*-1/,
    );
  });
});

describe('stepDecay', () => {
  it('is initial * gamma ^ floor(epoch / stepSize), as PyTorch StepLR', () => {
    const s = stepDecay({ initialLearningRate: 0.05, stepSize: 3 });
    const expected = [0.05, 0.05, 0.05, 0.005, 0.005, 0.005, 0.0005];
    values(s, 7).forEach((v, i) => close(v, expected[i]!));
    const half = stepDecay({ initialLearningRate: 1, stepSize: 1, gamma: 0.5 });
    assert.deepEqual(values(half, 4), [1, 0.5, 0.25, 0.125]);
  });
  it('rejects bad options by name', () => {
    assert.throws(
      () => stepDecay({ initialLearningRate: 0.1, stepSize: 0 }),
      /stepSize must be an integer >= 1, got 0/,
    );
    assert.throws(() => stepDecay({ initialLearningRate: 0.1, stepSize: 1.5 }), /stepSize/);
    assert.throws(() => stepDecay({ initialLearningRate: 0.1, stepSize: 1, gamma: -0.1 }), /gamma/);
  });
});

describe('cosineDecay', () => {
  it('decays from initial to initial * alpha over decaySteps, then stays there, as Keras', () => {
    const s = cosineDecay({ initialLearningRate: 0.1, decaySteps: 10 });
    close(s(0, 1), 0.1);
    close(s(5, 1), 0.05);
    close(s(10, 1), 0);
    close(s(15, 1), 0);
    const a = cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1 });
    close(a(10, 1), 0.01);
    close(a(5, 1), 0.1 * (0.9 * 0.5 + 0.1));
  });
  it('warms up linearly to warmupTarget, then decays from it', () => {
    const s = cosineDecay({
      initialLearningRate: 0,
      warmupTarget: 0.1,
      warmupSteps: 5,
      decaySteps: 10,
    });
    const expected = [0, 0.02, 0.04, 0.06, 0.08, 0.1];
    values(s, 6).forEach((v, i) => close(v, expected[i]!));
    close(s(10, 1), 0.05);
    close(s(15, 1), 0);
    close(s(40, 1), 0);
  });
  it('keeps Keras: a warmupTarget without warmupSteps decays from the target', () => {
    close(cosineDecay({ initialLearningRate: 1, warmupTarget: 0.2, decaySteps: 4 })(0, 1), 0.2);
  });
  it('rejects bad options by name', () => {
    assert.throws(() => cosineDecay({ initialLearningRate: 0.1, decaySteps: -1 }), /decaySteps/);
    assert.throws(
      () => cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 2 }),
      /alpha/,
    );
    assert.throws(
      () => cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupSteps: 3 }),
      /warmupSteps \(3\) needs warmupTarget/,
    );
  });
});

describe('oneCycle (PyTorch OneCycleLR tests, one step per epoch)', () => {
  it('linear annealing, two phases', () => {
    const s = oneCycle({
      maxLearningRate: 25,
      finalDivFactor: 2,
      totalEpochs: 10,
      annealStrategy: 'linear',
    });
    const expected = [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5];
    values(s, 10).forEach((v, i) => close(v, expected[i]!));
  });
  it('linear annealing, three phases', () => {
    const s = oneCycle({
      maxLearningRate: 25,
      divFactor: 25,
      totalEpochs: 10,
      annealStrategy: 'linear',
      pctStart: 0.4,
      finalDivFactor: 4,
      threePhase: true,
    });
    const expected = [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25];
    values(s, 10).forEach((v, i) => close(v, expected[i]!));
  });
  it('cosine annealing', () => {
    const cos = (start: number, end: number, pct: number) =>
      end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    const expected = [1, 13, 25, ...[1, 2, 3, 4, 5, 6].map((k) => cos(25, 0.5, k / 7)), 0.5];
    const s = oneCycle({ maxLearningRate: 25, finalDivFactor: 2, totalEpochs: 10 });
    values(s, 10).forEach((v, i) => close(v, expected[i]!));
  });
  it('fails past the cycle and for a zero-length phase', () => {
    const s = oneCycle({ maxLearningRate: 1, totalEpochs: 10 });
    assert.throws(() => s(10, 1), /epoch 10 is past the cycle \(totalEpochs 10\)/);
    assert.throws(
      () => oneCycle({ maxLearningRate: 1, totalEpochs: 10, pctStart: 0.1 }),
      /pctStart 0.1.*zero length/,
    );
    assert.throws(() => oneCycle({ maxLearningRate: 0, totalEpochs: 10 }), /maxLearningRate/);
    assert.throws(
      () => oneCycle({ maxLearningRate: 1, totalEpochs: 10, annealStrategy: 'exp' as 'cos' }),
      /annealStrategy must be one of 'cos', 'linear', got "exp"/,
    );
  });
});
