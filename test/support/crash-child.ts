/**
 * The training program of test/crash-resume.test.ts: a tiny deterministic run with every
 * stateful callback, resumable after a kill. Run it again after a crash and it continues.
 *
 *   node --conditions=@rxfit/source --import tsx test/support/crash-child.ts <workDir>
 *
 * CRASH (env) makes it kill itself with SIGKILL at a chosen point, to crash where a test
 * cannot aim from outside:
 *   log-write:<epoch>       in the middle of the event log's write at the end of <epoch> (a torn line)
 *   checkpoint:<epoch>      during the first best-checkpoint save at or after <epoch>, before its rename
 *   batch:<epoch>:<batch>   after that batch
 * SLOW_MS (env) sleeps that long after each batch, so a kill from outside lands mid-epoch.
 * It prints `epochEnd <n>` after each live epoch and `done` at the end (fd 1, synchronously).
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { controlOf, fit, type TrainingEvent } from '@rxfit/core';
import { modelCheckpoint, nodeFileSystem, type FileSystemPort } from '@rxfit/checkpoint';
import { csvLogger } from '@rxfit/csv-logger';
import { earlyStopping } from '@rxfit/early-stopping';
import { backupAndRestore, eventLog, resumable, type LogFileIo } from '@rxfit/event-log';
import { reduceLROnPlateau } from '@rxfit/scheduler';

const workDir = process.argv[2] ?? '';
if (workDir === '') throw new Error('usage: crash-child.ts <workDir>');
const [crashKind, crashA, crashB] = (process.env['CRASH'] ?? '').split(':');
const crashEpoch = Number(crashA);
const slowMs = Number(process.env['SLOW_MS'] ?? 0);

const say = (line: string): void => void writeSync(1, `${line}\n`);
const die = (where: string): never => {
  say(`crashing ${where}`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

/** More epochs than the run needs: early stopping ends it (at epoch 9). */
const EPOCHS = 40;

let epoch = 0;

const logIo: LogFileIo = {
  write(fd, data) {
    const text = Buffer.from(data).toString();
    if (crashKind === 'log-write' && text.includes(`"type":"epochEnd","epoch":${crashEpoch},`)) {
      // Half of the flush reaches the file, as when a kill lands inside write(2).
      writeSync(fd, data.subarray(0, Math.floor(data.length / 2)));
      die(`log-write ${crashEpoch}`);
    }
    for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset);
  },
  sync: () => undefined,
};

const checkpointFs: FileSystemPort = {
  ...nodeFileSystem,
  async rename(from, to) {
    if (crashKind === 'checkpoint' && epoch >= crashEpoch) die(`checkpoint ${epoch}`);
    await nodeFileSystem.rename(from, to);
  },
};

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });
  const data = tf.tidy(() => {
    const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 7);
    // Noisy labels, so validation loss stops improving and the callbacks have work to do.
    const noise = tf.randomNormal([64, 1], 0, 0.8, 'float32', 11);
    const ys = tf.greater(xs.slice([0, 0], [64, 1]).add(xs.slice([0, 1], [64, 1])).add(noise), 0).toFloat();
    return { xs, ys };
  });

  const log = join(workDir, 'events.jsonl');
  const backup = join(workDir, 'backup');
  await lastValueFrom(
    resumable({ dir: backup, log, model }, (resume) =>
      fit(model, data, { epochs: EPOCHS, batchSize: 8, validationSplit: 0.25, seed: 1, ...resume }),
    ).pipe(
      tap((event: TrainingEvent) => {
        if (event.replayed) return;
        if (event.type === 'epochBegin') epoch = event.epoch;
        if (event.type === 'batchEnd') {
          if (crashKind === 'batch' && event.epoch === crashEpoch && event.batch === Number(crashB)) {
            die(`batch ${event.epoch}:${event.batch}`);
          }
          if (slowMs > 0) controlOf(event)?.defer(new Promise((resolve) => setTimeout(resolve, slowMs)));
        }
      }),
      eventLog(log, { io: logIo, fsync: false }),
      backupAndRestore({ dir: backup }),
      earlyStopping({ monitor: 'val_loss', patience: 5 }),
      reduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2 }),
      modelCheckpoint({ filepath: join(workDir, 'best'), monitor: 'val_loss', saveBestOnly: true, fileSystem: checkpointFs }),
      csvLogger(join(workDir, 'log.csv')),
      tap((event: TrainingEvent) => {
        if (!event.replayed && event.type === 'epochEnd') say(`epochEnd ${event.epoch}`);
      }),
    ),
  );
  writeFileSync(join(workDir, 'final-weights.json'), JSON.stringify(model.getWeights().map((w) => Array.from(w.dataSync()))));
  say('done');
}

await main();
