import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logs, TrainingEvent } from '@rxfit/core';
import { monitorDirection } from '@rxfit/core/operator-kit';
import { decisionFold } from '@rxfit/core';
import { modelCheckpointDecider } from '@rxfit/checkpoint';
import { checkpointDeciderOf, type CheckpointConfig, type SavePoint } from '../src/decider.js';

/** The save points a fold over `events` gives. */
function savePoints(config: CheckpointConfig, events: readonly TrainingEvent[]): SavePoint[] {
  const fold = decisionFold(checkpointDeciderOf(config));
  return events.flatMap((event) => fold.next(event));
}

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
  const events = values.map((value, epoch) =>
    epochEnd(epoch, value === undefined ? { loss: 1 } : { [config.monitor]: value }),
  );
  return savePoints(config, events).filter((point) => point.save).map((point) => point.epoch);
}

describe('checkpoint decider', () => {
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
    const [point] = savePoints({ ...base, monitor: 'unknown', saveBestOnly: true }, [
      epochEnd(0, { loss: 1 }),
    ]);
    assert.equal(point?.save, true);
    assert.match(
      point?.warning ?? '',
      /Can save best model only with unknown available \(available: loss\)/,
    );
  });

  it('saveFreq N counts batches across epochs (Keras case 8a: 5 batches/epoch, N=15 → epochs 3, 6, 9)', () => {
    const fold = decisionFold(checkpointDeciderOf({ ...base, saveFreq: 15 }));
    const saved: string[] = [];
    for (let epoch = 0; epoch < 10; epoch++) {
      for (let batch = 0; batch < 5; batch++) {
        for (const point of fold.next(batchEnd(epoch, batch))) {
          if (point.save) saved.push(`${point.epoch}/${point.batch}`);
        }
      }
      assert.deepEqual(fold.next(epochEnd(epoch, { val_loss: 1 })), [], 'no epoch-end save with an integer saveFreq');
    }
    assert.deepEqual(saved, ['2/4', '5/4', '8/4']);
  });

  it('saveFreq 1 saves after every batch (Keras case 10a)', () => {
    const events: TrainingEvent[] = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      for (let batch = 0; batch < 2; batch++) events.push(batchEnd(epoch, batch));
    }
    assert.equal(savePoints({ ...base, saveFreq: 1 }, events).filter((point) => point.save).length, 10);
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

  it('modelCheckpointDecider takes the operator options; the best carries over to the next run, as Keras', () => {
    const decider = modelCheckpointDecider({ filepath: 'best', monitor: 'val_loss', saveBestOnly: true });
    const fold = decisionFold(decider);
    const event = (runId: string, epoch: number, value: number): TrainingEvent =>
      Object.freeze({ runId, seq: seq++, time: 0, type: 'epochEnd', epoch, logs: { val_loss: value } });
    const saves = (events: TrainingEvent[]) =>
      events.flatMap((e) => fold.next(e)).map((point) => point.save);
    assert.deepEqual(saves([event('a', 0, 2), event('a', 1, 3)]), [true, false]);
    // The same run (a resume) keeps its best; so does another run, as Keras' best outlives a fit.
    assert.deepEqual(saves([event('a', 2, 2.5)]), [false]);
    assert.deepEqual(saves([event('b', 0, 2.5), event('b', 1, 1)]), [false, true]);
    assert.throws(() => modelCheckpointDecider({ filepath: 'x', save_best_only: true } as never), /unknown option 'save_best_only'/);
  });
});
