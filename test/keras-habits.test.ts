// A Keras user's habits, tried on every factory: snake_case options, typos, Keras' `callbacks`.
// Each must end in a clear error when the factory is called, before any compute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fit, sink } from '@rxfit/core';
import { useBestBackend } from '@rxfit/backend';
import { earlyStopping } from '@rxfit/early-stopping';
import { modelCheckpoint, saveModel } from '@rxfit/checkpoint';
import { cosineDecay, exponentialDecay, oneCycle, reduceLROnPlateau, stepDecay } from '@rxfit/scheduler';
import { csvLogger } from '@rxfit/csv-logger';
import { terminateOnNaN } from '@rxfit/terminate-on-nan';
import { pinoLogger, progressBar } from '@rxfit/logger';
import { plotHistory } from '@rxfit/plot';
import { backupAndRestore, eventLog, readEventLog, resumable } from '@rxfit/event-log';
import { remoteMonitor } from '@rxfit/remote-monitor';
import { imageFolder } from '@rxfit/image-folder';
import { EMPTY } from 'rxjs';
import { tensorBoard } from '@rxfit/tensorboard';
import { findLearningRate } from '@rxfit/lr-finder';

/** Calls a factory with options a TypeScript user could not write, as a JavaScript user can. */
type Loose = (options: Record<string, unknown>) => unknown;

const model = (): tf.LayersModel => {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return m;
};

const cases: [string, Loose, Record<string, unknown>, RegExp][] = [
  ['fit', (o) => fit(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { batch_size: 8 }, /fit: unknown option 'batch_size': rxfit options are camelCase, did you mean 'batchSize'/],
  ['fit', (o) => fit(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { validation_split: 0.2 }, /did you mean 'validationSplit'/],
  ['fit', (o) => fit(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { epoch: 3 }, /fit: unknown option 'epoch': did you mean 'epochs'/],
  ['fit', (o) => fit(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { callbacks: [] }, /rxfit callbacks are RxJS operators, composed with pipe/],
  ['earlyStopping', (o) => earlyStopping(o), { min_delta: 0.01 }, /earlyStopping: unknown option 'min_delta'.*did you mean 'minDelta'/],
  ['modelCheckpoint', (o) => modelCheckpoint({ filepath: 'ckpt', ...o }), { save_best_only: true }, /modelCheckpoint: unknown option 'save_best_only'.*did you mean 'saveBestOnly'/],
  ['modelCheckpoint', (o) => modelCheckpoint({ filepath: 'ckpt', ...o }), { save_weights_only: true }, /did you mean 'saveWeightsOnly'/],
  ['reduceLROnPlateau', (o) => reduceLROnPlateau(o), { min_lr: 1e-5 }, /reduceLROnPlateau: unknown option 'min_lr'.*did you mean 'minLr'/],
  ['exponentialDecay', (o) => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.9, ...o }), { stair_case: true }, /exponentialDecay: unknown option 'stair_case'/],
  ['stepDecay', (o) => stepDecay({ initialLearningRate: 0.1, stepSize: 1, ...o }), { step_size: 2 }, /did you mean 'stepSize'/],
  ['cosineDecay', (o) => cosineDecay({ initialLearningRate: 0.1, decaySteps: 1, ...o }), { warmup_steps: 2 }, /did you mean 'warmupSteps'/],
  ['oneCycle', (o) => oneCycle({ maxLearningRate: 0.1, totalEpochs: 5, ...o }), { pct_start: 0.3 }, /did you mean 'pctStart'/],
  ['csvLogger', (o) => csvLogger('log.csv', o), { seperator: ';' }, /csvLogger: unknown option 'seperator': did you mean 'separator'/],
  ['terminateOnNaN', (o) => terminateOnNaN(o), { raise_error: true }, /did you mean 'raiseError'/],
  ['progressBar', (o) => progressBar(o), { verbose: 1 }, /progressBar: unknown option 'verbose'/],
  ['pinoLogger', (o) => pinoLogger(undefined, o), { replay: 'skip' }, /pinoLogger: unknown option 'replay': did you mean 'replayed'/],
  ['plotHistory', (o) => plotHistory({ file: 'plot', ...o }), { format: ['svg'] }, /plotHistory: unknown option 'format': did you mean 'formats'/],
  ['eventLog', (o) => eventLog('events.jsonl', o), { fsynch: false }, /eventLog: unknown option 'fsynch': did you mean 'fsync'/],
  ['sink', (o) => sink({}, { name: 's', mode: 'latest', ...o }), { best_effort: true }, /sink: unknown option 'best_effort'.*did you mean 'bestEffort'/],
  ['saveModel', (o) => saveModel(model(), 'unused', o), { include_optimizer: false }, /saveModel: unknown option 'include_optimizer'.*did you mean 'includeOptimizer'/],
  ['useBestBackend', (o) => useBestBackend(o), { thread: 2 }, /useBestBackend: unknown option 'thread': did you mean 'threads'/],
  ['tensorBoard', (o) => tensorBoard({ logDir: 'logs', ...o }), { histogram_freq: 1 }, /tensorBoard: unknown option 'histogram_freq'.*did you mean 'histogramFreq'/],
  ['tensorBoard', (o) => tensorBoard({ logDir: 'logs', ...o }), { update_freq: 'batch' }, /did you mean 'updateFreq'/],
  ['findLearningRate', (o) => findLearningRate(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { num_it: 50 }, /lrFinder: unknown option 'num_it'.*did you mean 'numSteps'/],
  ['findLearningRate', (o) => findLearningRate(model(), { xs: tf.zeros([4, 2]), ys: tf.zeros([4, 1]) }, o), { max_lr: 1 }, /did you mean 'maxLr'/],
  ['remoteMonitor', (o) => remoteMonitor({ url: 'http://127.0.0.1:9/x', ...o }), { timeout_ms: 5 }, /remoteMonitor: unknown option 'timeout_ms'.*did you mean 'timeoutMs'/],
  ['imageFolder', (o) => imageFolder('no-such-folder', o), { target_size: [64, 64] }, /imageFolder: unknown option 'target_size'.*did you mean 'targetSize'/],
  ['backupAndRestore', (o) => backupAndRestore({ dir: 'backup', ...o }), { delete_checkpoint: false }, /backupAndRestore: unknown option 'delete_checkpoint'/],
  ['readEventLog', (o) => readEventLog('events.jsonl', o), { run_id: 'x' }, /readEventLog: unknown option 'run_id'.*did you mean 'runId'/],
  ['resumable', (o) => resumable({ dir: 'backup', model: model(), ...o }, () => EMPTY), { logfile: 'x' }, /resumable: unknown option 'logfile'/],
];

describe('a Keras habit in any factory gives a TypeError naming the option and the fix', () => {
  for (const [owner, factory, options, message] of cases) {
    it(`${owner}(${JSON.stringify(options)})`, async () => {
      // Async factories reject, sync ones throw: both at the call, before any run.
      await assert.rejects(
        async () => {
          await factory(options);
        },
        (error: Error) => {
          assert.ok(error instanceof TypeError, `${error.name}: ${error.message}`);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
