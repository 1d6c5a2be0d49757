/**
 * The program of the consumer test (test/consumer/run.mjs): what a user writes in their own
 * project once the @rxfit tarballs are installed there. It is copied to a folder outside the
 * repository, type-checked with `tsc --strict` against the installed packages and run with
 * plain `node`:
 *
 *   node dist/main.js <outDir>
 *
 * CRASH_AT_EPOCH=<n> (env) kills the process after the first batch of epoch <n>; running it
 * again resumes the run from its last backup (`resumable` + `backupAndRestore`). It writes
 * `result.json` (what the run and the reloaded checkpoint gave) and the sink's `sink.jsonl`.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import { fit, sink, toHistory, type TrainingEvent } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { earlyStopping } from '@rxfit/early-stopping';
import { loadCheckpoint, modelCheckpoint } from '@rxfit/checkpoint';
import { learningRateScheduler } from '@rxfit/scheduler';
import { csvLogger } from '@rxfit/csv-logger';
import { backupAndRestore, eventLog, listRuns, resumable } from '@rxfit/event-log';

const out = process.argv[2];
if (out === undefined) throw new Error('usage: node dist/main.js <outDir>');
const crashAt = process.env['CRASH_AT_EPOCH'];

const backend = await useBestBackend();

// A tiny seeded problem (is x0 + x1 > 0?), learnt in a few epochs.
const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 42);
const ys = tf.tidy(() =>
  xs
    .slice([0, 0], [-1, 1])
    .add(xs.slice([0, 1], [-1, 1]))
    .greater(0)
    .toFloat(),
);
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [4],
      units: 8,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });

/** A sink as a user writes one: every epoch end, live or replayed, as one line of a file. */
const epochFile = join(out, 'sink.jsonl');
const epochSink = sink(
  {
    onEpochEnd: (event) => {
      const line = {
        epoch: event.epoch,
        replayed: event.replayed === true,
        loss: event.logs['loss'],
      };
      appendFileSync(epochFile, `${JSON.stringify(line)}\n`);
    },
  },
  { name: 'epochSink', mode: 'lossless' },
);

const log = join(out, 'events.jsonl');
const backupDir = join(out, 'backup');
const best = join(out, 'best');
const run$ = resumable({ dir: backupDir, log, model }, (resume) =>
  fit(model, { xs, ys }, { epochs: 6, batchSize: 16, validationSplit: 0.25, seed: 7, ...resume }),
).pipe(
  tap((event: TrainingEvent) => {
    if (
      !event.replayed &&
      event.type === 'batchEnd' &&
      String(event.epoch) === crashAt &&
      event.batch === 0
    ) {
      process.kill(process.pid, 'SIGKILL');
    }
  }),
  eventLog(log),
  backupAndRestore({ dir: backupDir }),
  learningRateScheduler((epoch) => (epoch < 3 ? 0.05 : 0.025)),
  earlyStopping({ monitor: 'val_loss', patience: 10 }),
  modelCheckpoint({ filepath: best, monitor: 'val_loss', saveBestOnly: true }),
  csvLogger(join(out, 'log.csv')),
  epochSink,
);
const { epoch, history } = await lastValueFrom(run$.pipe(toHistory()));

const sample = xs.slice([0, 0], [4, 4]);
const reloaded = await loadCheckpoint(best);
const prediction = tf.tidy(() => reloaded.predict(sample) as tf.Tensor);
const livePrediction = tf.tidy(() => model.predict(sample) as tf.Tensor);
writeFileSync(
  join(out, 'result.json'),
  JSON.stringify({
    backend: backend.name,
    tfBackend: tf.getBackend(),
    epochs: epoch,
    lr: history['lr'],
    predictionShape: prediction.shape,
    prediction: Array.from(prediction.dataSync()),
    livePrediction: Array.from(livePrediction.dataSync()),
    runs: await listRuns(log),
  }),
);
