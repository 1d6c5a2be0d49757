import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asha, ashaMilestones, percentile, type AshaState, type PruneDecision } from '@rxfit/sweep';

/** Feeds reports `[trial, completed epochs t, value]` and returns [action, cutoff] per report. */
function decide(options: Parameters<typeof asha>[0], mode: 'min' | 'max', reports: [string, number, number][]): [string, number | undefined][] {
  const pruner = asha(options);
  let state: AshaState = pruner.initialState(mode);
  return reports.map(([trialId, t, value]) => {
    const step = pruner.report(state, { trialId, epoch: t - 1, value });
    state = step.state;
    const d: PruneDecision = step.decision;
    return [d.action, d.action === 'continue' ? undefined : d.cutoff === undefined ? undefined : Number(d.cutoff.toFixed(6))];
  });
}

describe('asha: the rule of Li et al. (2020) as Ray Tune implements it', () => {
  it('rungs: min_t * rf^(k+s) for k = 0 .. floor(log_rf(max_t/min_t)) - s, highest first', () => {
    assert.deepEqual(ashaMilestones(1, 100, 4, 0), [64, 16, 4, 1], "Ray Tune's defaults");
    assert.deepEqual(ashaMilestones(1, 100, 4, 1), [64, 16, 4]);
    assert.deepEqual(ashaMilestones(1, 9, 3, 0), [9, 3, 1]);
    assert.deepEqual(ashaMilestones(2, 50, 3, 0), [18, 6, 2]);
    assert.deepEqual(ashaMilestones(1, 10, 2, 2), [8, 4]);
  });

  it('np.percentile with linear interpolation', () => {
    assert.equal(percentile([0.5], 66.67), 0.5);
    assert.ok(Math.abs(percentile([0.4, 0.5], (1 - 1 / 3) * 100)! - 0.466667) < 1e-6);
    assert.ok(Math.abs(percentile([0.6, 0.4, 0.5], (1 - 1 / 3) * 100)! - 0.533333) < 1e-6);
    assert.equal(percentile([1, 2, 3, 4], 75), 3.25);
    assert.equal(percentile([NaN, 2], 50), 2, 'nanpercentile');
    assert.equal(percentile([], 50), undefined);
  });

  it('mode max, reduction factor 3: the table of rung decisions', () => {
    const rows: [string, number, number, string, number | undefined][] = [
      // trial, t, value  -> action, cutoff (the 66.7th percentile of the rung so far)
      ['A', 1, 0.5, 'continue', undefined], // rung 1 empty: the first trial always goes on
      ['B', 1, 0.4, 'prune', 0.5], // percentile([0.5]) = 0.5
      ['C', 1, 0.6, 'continue', undefined], // percentile([0.5, 0.4]) = 0.4667
      ['D', 1, 0.45, 'prune', 0.533333], // percentile([0.5, 0.4, 0.6]) = 0.5333: recorded anyway
      ['A', 2, 0.55, 'continue', undefined], // no new rung at t = 2
      ['A', 3, 0.7, 'continue', undefined], // rung 3 empty
      ['C', 3, 0.65, 'prune', 0.7],
      ['E', 3, 0.9, 'continue', undefined], // the highest rung it reached: percentile([0.7, 0.65]) = 0.6833
      ['E', 1, 0.1, 'prune', 0.5], // never recorded at rung 1 (Ray stops at one rung per report): percentile([0.5, 0.4, 0.6, 0.45]) = 0.5
      ['A', 9, 0.8, 'stop', undefined], // t >= maxT: finished
    ];
    const got = decide({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }, 'max', rows.map(([a, b, c]) => [a, b, c]));
    assert.deepEqual(got, rows.map(([, , , action, cutoff]) => [action, cutoff]));
  });

  it('mode min mirrors it on negated values (Ray Tune multiplies by -1)', () => {
    const got = decide({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }, 'min', [
      ['A', 1, 0.5], ['B', 1, 0.6], ['C', 1, 0.4], ['D', 1, 0.55],
    ]);
    assert.deepEqual(got, [
      ['continue', undefined],
      ['prune', 0.5], // 0.6 is above percentile([-0.5]) negated back
      ['continue', undefined], // cutoff -percentile([-0.5, -0.6], 66.7) = 0.5333: 0.4 is better
      ['prune', 0.466667], // -percentile([-0.5, -0.6, -0.4], 66.7) = 0.4667: 0.55 is worse
    ]);
  });

  it('reduction factor 4 keeps the top quarter; NaN is neither pruned nor recorded', () => {
    const got = decide({ gracePeriod: 2, maxT: 32, reductionFactor: 4 }, 'max', [
      ['A', 2, 1], ['B', 2, 2], ['C', 2, 3], ['D', 2, 2.6], ['N', 2, NaN], ['F', 2, 2.7],
    ]);
    // D: percentile([1,2,3], 75) = 2.5 -> continue; F: percentile([1,2,3,2.6], 75) = 2.7 -> 2.7 is not below.
    assert.deepEqual(got, [['continue', undefined], ['continue', undefined], ['continue', undefined], ['continue', undefined], ['continue', undefined], ['continue', undefined]]);
    const pruned = decide({ gracePeriod: 2, maxT: 32, reductionFactor: 4 }, 'max', [['A', 2, 1], ['B', 2, 2], ['C', 2, 3], ['G', 2, 2.4]]);
    assert.deepEqual(pruned.at(-1), ['prune', 2.5]);
  });

  it('a trial is recorded once per rung, so a resumed trial reporting again changes nothing', () => {
    const got = decide({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }, 'max', [['A', 1, 0.9], ['B', 1, 0.1], ['B', 1, 0.1], ['B', 2, 0.1]]);
    assert.deepEqual(got.map(([a]) => a), ['continue', 'prune', 'continue', 'continue']);
  });

  it('brackets: trials spread over brackets; bracket s starts at min_t * rf^s', () => {
    const pruner = asha({ gracePeriod: 1, maxT: 27, reductionFactor: 3, brackets: 2, seed: 1 });
    let state = pruner.initialState('max');
    for (let i = 0; i < 40; i++) state = pruner.report(state, { trialId: `t${String(i)}`, epoch: 2, value: i }).state;
    const counts = [0, 0];
    for (const b of Object.values(state.bracketOf)) counts[b]!++;
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both brackets used: ${counts.join(', ')}`);
    assert.deepEqual(state.brackets.map((b) => b.map((r) => r.milestone)), [[27, 9, 3, 1], [27, 9, 3]]);
  });

  it('checks its options', () => {
    assert.throws(() => asha({ maxT: 1, gracePeriod: 1 }), /maxT must be > gracePeriod/);
    assert.throws(() => asha({ reductionFactor: 1 }), /reductionFactor must be an integer >= 2/);
    assert.throws(() => asha({ grace_period: 2 } as never), /gracePeriod/);
  });
});
