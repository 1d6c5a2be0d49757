import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { choice, gridSampler, int, logUniform, medianPruner, randomSampler, uniform, type MedianState } from '@rxfit/sweep';

describe("medianPruner: Optuna's MedianPruner", () => {
  const run = (options: Parameters<typeof medianPruner>[0], mode: 'min' | 'max', steps: ([string, number, number] | ['done', string])[]) => {
    const pruner = medianPruner(options);
    let state: MedianState = pruner.initialState(mode);
    const actions: string[] = [];
    for (const step of steps) {
      if (step.length === 2) {
        state = pruner.finished(state, step[1], 'completed');
        continue;
      }
      const [trialId, epoch, value] = step;
      const r = pruner.report(state, { trialId, epoch, value });
      state = r.state;
      actions.push(`${trialId}@${String(epoch)}:${r.decision.action}`);
    }
    return actions;
  };

  it('prunes a trial whose best so far is below the median of completed trials at that step', () => {
    const actions = run({ nStartupTrials: 2 }, 'max', [
      ['A', 0, 0.5], ['A', 1, 0.7], ['done', 'A'],
      ['B', 0, 0.3], ['B', 1, 0.5], ['done', 'B'],
      ['C', 0, 0.35], // median at step 0 of A, B: 0.4 -> prune
      ['D', 0, 0.45], ['D', 1, 0.55], // step 1 median 0.6; best of D so far 0.55 -> prune
      ['E', 2, 0.0], // no completed trial reported step 2 (nMinTrials 1) -> continue
    ]);
    assert.deepEqual(actions, ['A@0:continue', 'A@1:continue', 'B@0:continue', 'B@1:continue', 'C@0:prune', 'D@0:continue', 'D@1:prune', 'E@2:continue']);
  });

  it('waits for nStartupTrials completed trials and nWarmupSteps; checks every intervalSteps', () => {
    const base: ([string, number, number] | ['done', string])[] = [['A', 0, 1], ['A', 1, 1], ['A', 2, 1], ['A', 3, 1], ['done', 'A']];
    assert.deepEqual(run({ nStartupTrials: 2 }, 'max', [...base, ['X', 0, 0]]), ['A@0:continue', 'A@1:continue', 'A@2:continue', 'A@3:continue', 'X@0:continue']);
    assert.deepEqual(run({ nStartupTrials: 1, nWarmupSteps: 2 }, 'max', [...base, ['X', 0, 0], ['X', 1, 0], ['X', 2, 0]]).slice(4), ['X@0:continue', 'X@1:continue', 'X@2:prune']);
    // Interval 2 after warm-up 1: steps 1 and 3 are checked; step 2 follows step 1 in the same interval.
    assert.deepEqual(
      run({ nStartupTrials: 1, nWarmupSteps: 1, intervalSteps: 2 }, 'min', [...base, ['X', 0, 5], ['X', 2, 5], ['X', 3, 5]]).slice(4),
      ['X@0:continue', 'X@2:prune', 'X@3:prune'],
    );
  });

  it('mode min: larger is worse', () => {
    const actions = run({ nStartupTrials: 1 }, 'min', [['A', 0, 1], ['done', 'A'], ['B', 0, 2], ['C', 0, 0.5]]);
    assert.deepEqual(actions, ['A@0:continue', 'B@0:prune', 'C@0:continue']);
  });
});

describe('samplers', () => {
  const space = { lr: logUniform(1e-4, 1e-1), units: int(16, 64, 16), act: choice(['relu', 'tanh']), drop: uniform(0, 0.5) };

  it('random: seeded, within range, on each parameter\'s scale', () => {
    const a = randomSampler({ seed: 3 });
    const draws = Array.from({ length: 200 }, (_, i) => a.sample(space, i)!);
    assert.deepEqual(draws.slice(0, 5), Array.from({ length: 5 }, (_, i) => randomSampler({ seed: 3 }).sample(space, i)));
    assert.notDeepEqual(draws[0], randomSampler({ seed: 4 }).sample(space, 0));
    for (const d of draws) {
      assert.ok(Number(d['lr']) >= 1e-4 && Number(d['lr']) <= 1e-1);
      assert.ok([16, 32, 48, 64].includes(Number(d['units'])));
      assert.ok(['relu', 'tanh'].includes(String(d['act'])));
      assert.ok(Number(d['drop']) >= 0 && Number(d['drop']) <= 0.5);
    }
    const belowMilli = draws.filter((d) => Number(d['lr']) < 1e-3).length;
    assert.ok(belowMilli > 40 && belowMilli < 95, `log-uniform: about a third below 1e-3, got ${String(belowMilli)} of 200`);
    assert.equal(new Set(draws.map((d) => d['units'])).size, 4, 'every int value drawn');
  });

  it('grid: every combination once, in order or shuffled by a seed, then undefined', () => {
    const small = { lr: logUniform(1e-3, 1e-1), units: choice([8, 16]) };
    const grid = gridSampler();
    const all = Array.from({ length: 6 }, (_, i) => grid.sample(small, i));
    assert.deepEqual(all.map((p) => [Number(Number(p!['lr']).toPrecision(3)), p!['units']]), [
      [0.001, 8], [0.001, 16], [0.01, 8], [0.01, 16], [0.1, 8], [0.1, 16],
    ]);
    assert.equal(grid.sample(small, 6), undefined);
    const shuffled = gridSampler({ seed: 5 });
    const order = Array.from({ length: 6 }, (_, i) => JSON.stringify(shuffled.sample(small, i)));
    assert.deepEqual([...order].sort(), all.map((p) => JSON.stringify(p)).sort());
    assert.notDeepEqual(order, all.map((p) => JSON.stringify(p)));
    assert.deepEqual(order, Array.from({ length: 6 }, (_, i) => JSON.stringify(gridSampler({ seed: 5 }).sample(small, i))));
  });

  it('space builders check their arguments', () => {
    assert.throws(() => logUniform(0, 1), /low must be > 0/);
    assert.throws(() => uniform(1, 1), /low < high/);
    assert.throws(() => int(1.5, 3), /integers/);
    assert.throws(() => choice([]), /non-empty/);
  });
});
