import type { Optimizer } from '@tensorflow/tfjs';

/**
 * The learning rate an optimizer uses now, read from its config (every tfjs optimizer reports
 * `learningRate` there).
 *
 * ## Example
 * ```ts
 * import { getLearningRate } from '@rxfit/core';
 * getLearningRate(tf.train.adam(0.01)); // 0.01
 * ```
 * @param optimizer - A tfjs optimizer.
 * @returns The learning rate.
 * @throws TypeError when the optimizer has no numeric learning rate.
 */
export function getLearningRate(optimizer: Optimizer): number {
  const lr = optimizer.getConfig()['learningRate'];
  if (typeof lr !== 'number') {
    throw new TypeError(
      `${optimizer.getClassName()} has no numeric learningRate in its config, so rxfit cannot read or schedule it`,
    );
  }
  return lr;
}

/**
 * Sets the learning rate of any tfjs optimizer so that the next step uses it.
 *
 * tfjs keeps `learningRate` protected. SGD and Momentum cache `-lr` in a kept scalar and offer
 * `setLearningRate`, which must be used; Adam, Adamax, RMSProp, Adagrad and Adadelta read the
 * field at every step, so assigning it takes effect. The result is read back, so an optimizer
 * that ignores both ways fails loudly instead of silently keeping its rate.
 *
 * ## Example
 * ```ts
 * import { setLearningRate } from '@rxfit/core';
 * setLearningRate(model.optimizer, 1e-4);
 * ```
 * @param optimizer - A tfjs optimizer.
 * @param lr - The new learning rate, finite and ≥ 0.
 * @throws RangeError for a bad `lr`; TypeError when the optimizer's rate cannot be changed.
 */
export function setLearningRate(optimizer: Optimizer, lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) {
    throw new RangeError(`setLearningRate: lr must be a finite number >= 0, got ${String(lr)}`);
  }
  const target = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: unknown };
  if (typeof target.setLearningRate === 'function') {
    target.setLearningRate(lr);
  } else if (typeof target.learningRate === 'number') {
    target.learningRate = lr;
  }
  if (getLearningRate(optimizer) !== lr) {
    throw new TypeError(`${optimizer.getClassName()} does not let rxfit change its learning rate`);
  }
}
