import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type TrainingEvent } from '@rxfit/core';
import {
  monitorCheck,
  monitorDirection,
  monitorSettings,
  unknownLogKey,
} from '@rxfit/core/operator-kit';

describe('monitorDirection', () => {
  // Keras' test_early_stopping and model_checkpoint auto-mode cases, plus tfjs metric names.
  const cases: [string, 'min' | 'max' | undefined][] = [
    ['val_loss', 'min'],
    ['loss', 'min'],
    ['val_mse', 'min'],
    ['mse', 'min'],
    ['hinge', 'min'],
    ['meanAbsoluteError', 'min'],
    ['val_meanAbsoluteError', 'min'],
    ['val_categoricalCrossentropy', 'min'],
    ['cosineProximity', 'min'],
    ['huber_loss', 'min'],
    ['acc', 'max'],
    ['val_acc', 'max'],
    ['accuracy', 'max'],
    ['val_accuracy', 'max'],
    ['binaryAccuracy', 'max'],
    ['auc', 'max'],
    ['val_auc', 'max'],
    ['precision', 'max'],
    ['recall', 'max'],
    ['f1_score', 'max'],
    ['top_k_categorical_accuracy', 'max'],
    ['cosine_similarity', 'max'],
    ['unknown', undefined],
    ['my_score', undefined],
    ['lr', undefined],
  ];
  for (const [monitor, expected] of cases) {
    it(`${monitor} → ${expected ?? 'unknown'}`, () =>
      assert.equal(monitorDirection(monitor), expected));
  }
});

describe('monitorSettings', () => {
  it('reads the direction from the name or the mode, and validates mode and missingMonitor', () => {
    assert.equal(monitorSettings('op', 'val_loss', 'auto', 'error').direction, 'min');
    assert.equal(monitorSettings('op', 'val_loss', 'max', 'error').direction, 'max');
    assert.throws(() => monitorSettings('op', 'val_loss', 'up', 'error'), /op: mode must be one of 'auto', 'min', 'max', got "up"/);
    assert.throws(() => monitorSettings('op', 'val_loss', 'auto', 'ignore'), /op: missingMonitor must be one of 'error', 'warn'/);
    assert.throws(() => monitorSettings('op', '', 'auto', 'error'), TypeError);
  });

  it('leaves a name auto cannot read undecided: it may be a typo, which the run will show', () => {
    assert.equal(monitorSettings('op', 'val_los', 'auto', 'error').direction, undefined);
  });
});

describe('unknownLogKey', () => {
  const keys = ['loss', 'acc', 'val_loss', 'val_acc', 'lr'];
  it('is silent for a key the run logs', () => assert.equal(unknownLogKey('op: monitor', 'val_acc', keys), undefined));
  it('names the closest key for a typo, and lists the keys', () => {
    assert.equal(
      unknownLogKey('op: monitor', 'val_los', keys),
      "op: monitor 'val_los' is not logged by this run. Did you mean 'val_loss'? The run logs: loss, acc, val_loss, val_acc, lr.",
    );
  });
  it("gives tfjs' spelling of Keras' names", () => {
    assert.match(unknownLogKey('op: monitor', 'val_accuracy', keys)!, /'val_accuracy' is Keras' name; tfjs logs it as 'val_acc': write 'val_acc'\./);
    assert.match(unknownLogKey('op: monitor', 'accuracy', keys)!, /tfjs logs it as 'acc'/);
    assert.match(unknownLogKey('op: monitor', 'learning_rate', keys)!, /tfjs logs it as 'lr'/);
  });
  it('suggests nothing when nothing is close', () => {
    assert.doesNotMatch(unknownLogKey('op: monitor', 'f1', keys)!, /Did you mean/);
  });
});

describe('monitorCheck', () => {
  const begin = (metrics: string[]): TrainingEvent =>
    ({ type: 'trainBegin', runId: 'r', seq: 0, time: 0, replayed: true, params: { epochs: 1, initialEpoch: 0, metrics } });
  const epochEnd = (logs: Record<string, number>): TrainingEvent =>
    ({ type: 'epochEnd', runId: 'r', seq: 1, time: 0, replayed: true, epoch: 0, logs });

  it("checks at trainBegin against the run's metrics plus lr", () => {
    const check = monitorCheck(monitorSettings('op', 'val_los', 'auto', 'error'));
    assert.throws(() => check(begin(['loss', 'val_loss']), undefined), /Did you mean 'val_loss'\? The run logs: loss, val_loss, lr\./);
    monitorCheck(monitorSettings('op', 'lr', 'min', 'error'))(begin(['loss']), undefined);
  });

  it('checks at the first epochEnd when trainBegin names no metric', () => {
    const check = monitorCheck(monitorSettings('op', 'val_acc', 'auto', 'error'));
    check(begin([]), undefined);
    assert.throws(() => check(epochEnd({ loss: 1, lr: 0.1 }), undefined), /monitor 'val_acc' is not logged/);
  });

  it("asks for a mode only once the name is known not to be a typo", () => {
    const check = monitorCheck(monitorSettings('op', 'score', 'auto', 'error'));
    assert.throws(() => check(begin(['loss', 'score']), undefined), /cannot tell whether monitor 'score' should be minimized or maximized.*pass mode: 'min'/);
  });

  it("missingMonitor 'warn' leaves the run going", () => {
    monitorCheck(monitorSettings('op', 'nope', 'min', 'warn'))(begin(['loss']), undefined);
  });
});
