import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, decisionFold, fit, type TrainingEvent } from '@rxfit/core';
import { eventLog, readEventLog } from '@rxfit/event-log';
import { findLearningRate, sweepDecider } from '@rxfit/lr-finder';

function problem(seed = 1): { model: tf.Sequential; xs: tf.Tensor2D; ys: tf.Tensor } {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 16,
        inputShape: [8],
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['acc'] });
  const xs = tf.randomNormal<tf.Rank.R2>([256, 8], 0, 1, 'float32', seed);
  const ys = tf.tidy(() => xs.sum(1, true).greater(0).toFloat());
  return { model, xs, ys };
}

/** Every byte of the model's weights and of its optimizer's state, and its learning rate. */
async function fingerprint(
  model: tf.LayersModel,
): Promise<{ weights: Buffer[]; optimizer: Buffer[]; hidden: Buffer[]; lr: unknown }> {
  const bytes = async (t: tf.Tensor) =>
    Buffer.from(new Uint8Array((await t.data()).buffer.slice(0)));
  const state = await model.optimizer.getWeights();
  const hidden = ['accBeta1', 'accBeta2'].map(
    (name) => (model.optimizer as unknown as Record<string, tf.Tensor>)[name]!,
  );
  const result = {
    weights: await Promise.all(model.weights.map((w) => bytes(w.read()))),
    optimizer: await Promise.all(state.map(({ tensor }) => bytes(tensor))),
    hidden: await Promise.all(hidden.map(bytes)),
    lr: model.optimizer.getConfig()['learningRate'],
  };
  for (const { tensor } of state) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  return result;
}

const train = (model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor) =>
  lastValueFrom(fit(model, { xs, ys }, { epochs: 1, batchSize: 32, seed: 7 }));

describe('findLearningRate', () => {
  it('leaves the model bit-identical: weights, optimizer state, learning rate; training then goes on as without it', async () => {
    const a = problem();
    const b = problem();
    await train(a.model, a.xs, a.ys);
    await train(b.model, b.xs, b.ys);
    const optimizer = a.model.optimizer;
    const before = await fingerprint(a.model);
    assert.ok(before.optimizer.length > 1, 'Adam has moments to restore');
    const tensors = tf.memory().numTensors;
    const result = await findLearningRate(
      a.model,
      { xs: a.xs, ys: a.ys },
      { numSteps: 40, seed: 3 },
    );
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    assert.ok(result.learningRates.length >= 10);
    assert.equal(a.model.optimizer, optimizer, 'the same optimizer object');
    assert.deepEqual(await fingerprint(a.model), before);
    // The next epoch is the one the twin that never swept trains, bit for bit.
    await train(a.model, a.xs, a.ys);
    await train(b.model, b.xs, b.ys);
    assert.deepEqual((await fingerprint(a.model)).weights, (await fingerprint(b.model)).weights);
    for (const p of [a, b]) {
      tf.dispose([p.xs, p.ys]);
      p.model.dispose();
    }
  });

  it('sweeps exponentially through the fit loop, stops on divergence, suggests, plots, and its events replay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rxfit-lr-finder-'));
    try {
      const { model, xs, ys } = problem(2);
      const logPath = join(dir, 'lr-find.jsonl');
      const result = await findLearningRate(
        model,
        { xs, ys },
        {
          minLr: 1e-5,
          maxLr: 1e4,
          numSteps: 60,
          beta: 0.9,
          plot: join(dir, 'plots', 'lr-find'),
          operators: [eventLog(logPath)],
          runId: 'sweep',
        },
      );
      const { learningRates: lrs, losses } = result;
      assert.equal(lrs[0], 1e-5);
      assert.ok(lrs.every((lr, i) => i === 0 || lr > lrs[i - 1]!));
      assert.equal(losses.length, lrs.length);
      assert.equal(result.rawLosses.length, lrs.length);
      assert.equal(result.stoppedBy, 'diverged', `stopped at ${lrs.at(-1)}`);
      assert.ok(lrs.length < 60);
      for (const method of ['steepest', 'minimum', 'valley'] as const) {
        const suggestion = result.suggestions[method];
        assert.ok(
          suggestion && suggestion.learningRate > 1e-5 && suggestion.learningRate < 1e4,
          method,
        );
      }
      assert.equal(result.suggestion, result.suggestions.valley!.learningRate);
      assert.deepEqual(result.plot, {
        svg: join(dir, 'plots', 'lr-find.svg'),
        png: join(dir, 'plots', 'lr-find.png'),
      });
      assert.match(await readFile(result.plot.svg, 'utf8'), /learning rate/);
      assert.deepEqual(
        [...(await readFile(result.plot.png)).subarray(1, 4)],
        [...Buffer.from('PNG')],
      );

      // The log is a run like any other: replayed through the decider, it gives the same curve.
      const events: TrainingEvent[] = await lastValueFrom(readEventLog(logPath).pipe(toArray()));
      const changes = events.filter((e) => e.type === 'learningRateChanged' && e.by === 'lrFinder');
      assert.equal(changes.length, lrs.length);
      assert.ok(
        events.some(
          (e) => e.type === 'stopRequested' && e.by === 'lrFinder' && /diverged/.test(e.reason),
        ),
      );
      const settings = { minLr: 1e-5, maxLr: 1e4, numSteps: 60, beta: 0.9, divergenceFactor: 4 };
      const fold = decisionFold(sweepDecider(settings));
      for (const event of events) fold.next(event);
      const replayed = fold.state;
      assert.deepEqual(replayed.losses, losses);
      assert.deepEqual(replayed.learningRates, lrs);
      tf.dispose([xs, ys]);
      model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restores the model when the sweep fails, and refuses a model that is training', async () => {
    const { model, xs, ys } = problem(3);
    const before = await fingerprint(model);
    const bad = { xs, ys: tf.zeros([256, 3]) };
    await assert.rejects(findLearningRate(model, bad, { numSteps: 5 }));
    assert.deepEqual(await fingerprint(model), before);
    // A model that another run trains is not touched.
    const optimizer = model.optimizer;
    await lastValueFrom(
      fit(model, { xs, ys }, { epochs: 1 }).pipe(
        tap((event) => {
          if (event.type !== 'epochBegin') return;
          const sweep = findLearningRate(model, { xs, ys }, { numSteps: 5 });
          controlOf(event)?.defer(assert.rejects(sweep, /lrFinder: this model is training/));
        }),
      ),
    );
    assert.equal(model.optimizer, optimizer);
    tf.dispose([xs, ys, bad.ys]);
    model.dispose();
  });

  it('checks its options when called, naming the option and the value', () => {
    const { model, xs, ys } = problem(4);
    const data = { xs, ys };
    assert.throws(
      () => findLearningRate(model, data, { minLr: 0 }),
      /lrFinder: minLr must be a finite number in \(0, Infinity\), got 0/,
    );
    assert.throws(
      () => findLearningRate(model, data, { minLr: 1, maxLr: 0.1 }),
      /maxLr \(0\.1\) must be greater than minLr \(1\)/,
    );
    assert.throws(
      () => findLearningRate(model, data, { numSteps: 1 }),
      /numSteps must be an integer >= 2, got 1/,
    );
    assert.throws(
      () => findLearningRate(model, data, { suggest: 'steep' as 'steepest' }),
      /suggest must be one of 'steepest', 'minimum', 'valley'/,
    );
    assert.throws(
      () => findLearningRate(model, data, { num_it: 50 } as unknown as { numSteps: number }),
      /lrFinder: unknown option 'num_it'.*did you mean 'numSteps'/,
    );
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
