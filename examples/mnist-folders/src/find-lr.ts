import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { fit, toHistory } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { eventLog } from '@rxfit/event-log';
import { imageFolder } from '@rxfit/image-folder';
import { findLearningRate, type LearningRateFinderResult } from '@rxfit/lr-finder';
import { seedCnn } from '@rxfit/example-cats-vs-dogs/seed-cnn';

/** Options of {@link findSeedLearningRate}. */
export interface FindSeedLearningRateOptions {
  readonly trainDir: string;
  readonly testDir: string;
  /** Where the plot and the sweep's event log go. */
  readonly out: string;
  /** Images are resized to size × size. */
  readonly size: number;
  /** Batches of the sweep. @default 100 */
  readonly numSteps?: number;
  /** Then train this many epochs at the seed's 1e-3 and at the suggestion, from the same weights. @default 0 */
  readonly compareEpochs?: number;
  /** Limits each compared epoch to this many batches. @default a whole pass */
  readonly stepsPerEpoch?: number;
  readonly write?: (text: string) => void;
}

/** What the comparison of learning rates reached. */
export interface LearningRateComparison {
  readonly learningRate: number;
  readonly valAcc: readonly number[];
  readonly valLoss: readonly number[];
}

/**
 * The learning-rate range test on the main example: the seed CNN, the seed's augmented training
 * folders, a sweep through rxfit's fit loop (logged to `lr-find.jsonl`), the plot, and optionally
 * a short training at the seed's 1e-3 next to one at the suggestion, from the same initial weights.
 *
 * @param options - See {@link FindSeedLearningRateOptions}.
 * @returns The sweep and the comparison.
 */
export async function findSeedLearningRate(
  options: FindSeedLearningRateOptions,
): Promise<{ result: LearningRateFinderResult; comparison: LearningRateComparison[] }> {
  const { trainDir, testDir, out, size, numSteps = 100, compareEpochs = 0 } = options;
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const backend = await useBestBackend();
  const folder = {
    targetSize: [size, size] as const,
    colorMode: 'grayscale' as const,
    batchSize: 32,
    classMode: 'categorical' as const,
    rescale: 1 / 255,
  };
  // The seed's training pipeline (no flip for digits, as npm start).
  const trainingSet = await imageFolder(trainDir, {
    ...folder,
    shearRange: 0.2,
    zoomRange: 0.2,
    seed: 1,
  });
  const testSet = await imageFolder(testDir, { ...folder, shuffle: false });
  const classes = trainingSet.classNames.length;
  const model = seedCnn({ inputShape: [size, size, 1], classes });
  write(`Backend: ${backend.name}. Sweeping ${numSteps} batches from 1e-7 to 10...\n`);
  const started = Date.now();
  const result = await findLearningRate(model, trainingSet, {
    numSteps,
    plot: path.join(out, 'lr-find'),
    operators: [eventLog(path.join(out, 'lr-find.jsonl'))],
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const { valley, steepest, minimum } = result.suggestions;
  const show = (lr: number | undefined) =>
    lr === undefined ? 'none (too few points)' : lr.toPrecision(3);
  write(
    [
      `Swept ${result.learningRates.length} batches in ${seconds} s (${result.stoppedBy === 'diverged' ? 'stopped: the loss diverged' : 'all steps'}).`,
      `Suggested learning rate (valley, fastai's default): ${show(valley?.learningRate)}`,
      `  steepest (Lightning): ${show(steepest?.learningRate)}, minimum / 10: ${show(minimum?.learningRate)}`,
      `Plot: ${result.plot?.png ?? ''} (and .svg); the sweep's events: ${path.join(out, 'lr-find.jsonl')}`,
      '',
    ].join('\n'),
  );
  const comparison: LearningRateComparison[] = [];
  if (compareEpochs > 0 && result.suggestion !== undefined) {
    // The finder left the model as it was built: both runs start from these weights.
    const initial = model.getWeights();
    for (const learningRate of [1e-3, result.suggestion]) {
      const run = seedCnn({ inputShape: [size, size, 1], classes });
      run.setWeights(initial);
      run.compile({
        optimizer: tf.train.adam(learningRate),
        loss: 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });
      const history = await lastValueFrom(
        fit(run, trainingSet, {
          epochs: compareEpochs,
          validationData: testSet,
          ...(options.stepsPerEpoch === undefined ? {} : { stepsPerEpoch: options.stepsPerEpoch }),
        }).pipe(toHistory()),
      );
      const entry = {
        learningRate,
        valAcc: history.history['val_acc'] ?? [],
        valLoss: history.history['val_loss'] ?? [],
      };
      comparison.push(entry);
      write(
        `lr ${learningRate.toPrecision(3)}: val_acc ${entry.valAcc.map((v) => v.toFixed(4)).join(', ')}; val_loss ${entry.valLoss.map((v) => v.toFixed(4)).join(', ')}\n`,
      );
      run.dispose();
    }
  }
  model.dispose();
  await trainingSet.close();
  await testSet.close();
  return { result, comparison };
}
