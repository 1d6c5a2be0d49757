import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { monitorDirection, resolveMonitorDirection } from '@rxfit/core';

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

describe('resolveMonitorDirection', () => {
  it('reads auto from the name, takes min/max as given, and rejects the rest naming the owner', () => {
    assert.equal(resolveMonitorDirection('op', 'val_loss', 'auto'), 'min');
    assert.equal(resolveMonitorDirection('op', 'val_loss', 'max'), 'max');
    assert.throws(
      () => resolveMonitorDirection('op', 'val_loss', 'up'),
      /op: mode must be one of 'auto', 'min', 'max', got "up"/,
    );
    assert.throws(
      () => resolveMonitorDirection('op', 'my_score', 'auto'),
      /op: mode 'auto' cannot tell whether monitor 'my_score'/,
    );
  });
});
