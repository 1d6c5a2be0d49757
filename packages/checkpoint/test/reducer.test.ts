import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logs, TrainingEvent } from '@rxfit/core';
import { monitorDirection } from '@rxfit/core/operator-kit';
import { initialState, reduce, type CheckpointConfig } from '@rxfit/checkpoint';

const base: CheckpointConfig = {
  monitor: 'val_loss',
  direction: 'min',
  saveBestOnly: false,
  saveFreq: 'epoch',
  initialValueThreshold: undefined,
};

let seq = 0;
const epochEnd = (epoch: number, logs: Logs): TrainingEvent =>
  Object.freeze({ runId: 'r', seq: seq++, time: 0, type: 'epochEnd', epoch, logs });
const batchEnd = (epoch: number, batch: number): TrainingEvent =>
  Object.freeze({
    runId: 'r',
    seq: seq++,
    time: 0,
    type: 'batchEnd',
    epoch,
    batch,
    logs: { loss: 1, size: 1 },
  });

/** The epochs (0-based) at which a run with these monitored values saves. */
function savedEpochs(config: CheckpointConfig, values: readonly (number | undefined)[]): number[] {
  let state = initialState(config);
  const saved: number[] = [];
  values.forEach((value, epoch) => {
    const step = reduce(
      state,
      epochEnd(epoch, value === undefined ? { loss: 1 } : { [config.monitor]: value }),
    );
    state = step.state;
    if (step.point?.save) saved.push(epoch);
  });
  return saved;
}

describe('reduce', () => {
  it('saves at every epoch end without saveBestOnly', () => {
    assert.deepEqual(savedEpochs(base, [3, 4, 5]), [0, 1, 2]);
  });

  it('saveBestOnly saves only on a strict improvement (min and max)', () => {
    const min = { ...base, saveBestOnly: true };
    assert.deepEqual(savedEpochs(min, [10, 9, 9, 9.5, 8, 8.5]), [0, 1, 4]);
    const max = { ...min, monitor: 'val_acc', direction: 'max' as const };
    assert.deepEqual(savedEpochs(max, [0.5, 0.4, 0.6, 0.6, 0.7]), [0, 2, 4]);
    assert.deepEqual(savedEpochs(min, [NaN, 3, NaN, 2]), [1, 3]);
  });

  it('initialValueThreshold is the initial best (Keras cases 11, 13, 14)', () => {
    // Case 11: val_acc, max, threshold -0.01 → saved.
    const max = {
      ...base,
      monitor: 'val_acc',
      direction: 'max' as const,
      saveBestOnly: true,
      initialValueThreshold: -0.01,
    };
    assert.deepEqual(savedEpochs(max, [0]), [0]);
    // Cases 13/14: val_loss, min, threshold 0 → never saved.
    assert.deepEqual(
      savedEpochs({ ...base, saveBestOnly: true, initialValueThreshold: 0 }, [0.7, 0.3, 0]),
      [],
    );
    // A threshold only matters with saveBestOnly, as in Keras.
    assert.deepEqual(savedEpochs({ ...base, initialValueThreshold: 0 }, [0.7]), [0]);
  });

  it('a missing monitor with saveBestOnly warns and saves anyway (Keras case 5)', () => {
    const { point } = reduce(
      initialState({ ...base, monitor: 'unknown', saveBestOnly: true }),
      epochEnd(0, { loss: 1 }),
    );
    assert.equal(point?.save, true);
    assert.match(
      point?.warning ?? '',
      /Can save best model only with unknown available \(available: loss\)/,
    );
  });

  it('saveFreq N counts batches across epochs (Keras case 8a: 5 batches/epoch, N=15 → epochs 3, 6, 9)', () => {
    let state = initialState({ ...base, saveFreq: 15 });
    const saved: string[] = [];
    for (let epoch = 0; epoch < 10; epoch++) {
      for (let batch = 0; batch < 5; batch++) {
        const step = reduce(state, batchEnd(epoch, batch));
        state = step.state;
        if (step.point?.save) saved.push(`${step.point.epoch}/${step.point.batch}`);
      }
      const step = reduce(state, epochEnd(epoch, { val_loss: 1 }));
      assert.equal(step.point, undefined, 'no epoch-end save with an integer saveFreq');
      state = step.state;
    }
    assert.deepEqual(saved, ['2/4', '5/4', '8/4']);
  });

  it('saveFreq 1 saves after every batch (Keras case 10a)', () => {
    let state = initialState({ ...base, saveFreq: 1 });
    let saves = 0;
    for (let epoch = 0; epoch < 5; epoch++) {
      for (let batch = 0; batch < 2; batch++) {
        const step = reduce(state, batchEnd(epoch, batch));
        state = step.state;
        if (step.point?.save) saves++;
      }
    }
    assert.equal(saves, 10);
  });

  it("mode 'auto' follows the metric's direction", () => {
    const cases: [string, 'min' | 'max' | undefined][] = [
      ['loss', 'min'],
      ['val_loss', 'min'],
      ['val_acc', 'max'],
      ['accuracy', 'max'],
      ['val_auc', 'max'],
      ['precision', 'max'],
      ['recall', 'max'],
      ['mse', 'min'],
      ['val_meanAbsoluteError', 'min'],
      ['categoricalCrossentropy', 'min'],
      ['lr', undefined],
      ['my_score', undefined],
    ];
    for (const [name, direction] of cases) assert.equal(monitorDirection(name), direction, name);
  });
});
