import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import type { TrainingEvent } from '@rxfit/core';
import { loadCheckpoint } from '@rxfit/checkpoint';
import { earlyStopping } from '@rxfit/early-stopping';
import { listRuns, readEventLog, simulate } from '@rxfit/event-log';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = ['--conditions=@rxfit/source', '--import', 'tsx', join('test', 'support', 'crash-child.ts')];

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the training program once; `killAfter` kills it with SIGKILL `delayMs` after a marker line. */
function runChild(dir: string, env: Record<string, string> = {}, killAfter?: { marker: string; delayMs: number }): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...child, dir], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let armed = false;
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfter && !armed && stdout.split('\n').includes(killAfter.marker)) {
        armed = true;
        setTimeout(() => proc.kill('SIGKILL'), killAfter.delayMs);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** What two runs of the same configuration must agree on. */
function facts(events: readonly TrainingEvent[]) {
  return {
    epochs: events.flatMap((e) => (e.type === 'epochEnd' ? [{ epoch: e.epoch, logs: e.logs }] : [])),
    stops: events.flatMap((e) => (e.type === 'stopRequested' ? [{ epoch: e.epoch, by: e.by, reason: e.reason }] : [])),
    learningRates: events.flatMap((e) => (e.type === 'learningRateChanged' ? [{ epoch: e.epoch, from: e.from, to: e.to, by: e.by }] : [])),
    checkpoints: events.flatMap((e) => (e.type === 'checkpointSaved' ? [{ epoch: e.epoch, value: e.value }] : [])),
    trainEnds: events.flatMap((e) => (e.type === 'trainEnd' ? [e.reason] : [])),
  };
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('crash and resume (SIGKILL, then run the same program again)', () => {
  it('continues as if nothing happened: same epochs, log, CSV, checkpoint, stop, learning rates and weights', { timeout: 110_000 }, async () => {
    const base = await mkdtemp(join(tmpdir(), 'rxfit-crash-'));
    try {
      const refDir = join(base, 'reference');
      const dir = join(base, 'crashed');
      const trials: { readonly env?: Record<string, string>; readonly killAfter?: { marker: string; delayMs: number }; readonly expect?: string }[] = [
        // Torn line: half of the epoch-2 flush reaches the log.
        { env: { CRASH: 'log-write:2' }, expect: 'crashing log-write 2' },
        // During a best-checkpoint save, before its rename.
        { env: { CRASH: 'checkpoint:3' }, expect: 'crashing checkpoint 3' },
        // In the middle of an epoch.
        { env: { CRASH: 'batch:5:2' }, expect: 'crashing batch 5:2' },
        // From outside, at a random moment after epoch 6 ended: its deferred work (checkpoint,
        // CSV row, the learning-rate cut of epoch 6) or epoch 7 may be under way.
        { env: { SLOW_MS: '4' }, killAfter: { marker: 'epochEnd 6', delayMs: Math.floor(Math.random() * 40) } },
      ];

      const reference = runChild(refDir);
      let torn = false;
      for (const trial of trials) {
        const exit = await runChild(dir, trial.env, trial.killAfter);
        assert.equal(exit.signal, 'SIGKILL', `the trial ${JSON.stringify(trial)} was killed\n${exit.stdout}\n${exit.stderr}`);
        if (trial.expect) assert.ok(exit.stdout.includes(trial.expect), exit.stdout);
        if (trial.env?.['CRASH']?.startsWith('log-write')) torn = !(await readFile(join(dir, 'events.jsonl'), 'utf8')).endsWith('\n');
      }
      assert.ok(torn, 'the log-write crash left a torn last line');
      const last = await runChild(dir);
      assert.equal(last.code, 0, last.stderr);
      assert.ok(last.stdout.includes('done'));
      const ref = await reference;
      assert.equal(ref.code, 0, ref.stderr);

      // One run in the log, started once and resumed after each kill, with gap-free seq.
      const runs = await listRuns(join(dir, 'events.jsonl'));
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.starts, trials.length + 1);
      assert.equal(runs[0]!.endReason, 'stopped');
      const events = await lastValueFrom(readEventLog(join(dir, 'events.jsonl')).pipe(toArray()));
      const refEvents = await lastValueFrom(readEventLog(join(refDir, 'events.jsonl')).pipe(toArray()));
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i),
      );

      // Every epoch exactly once, with the same logs; the same stop, learning rates and checkpoints.
      const got = facts(events);
      const want = facts(refEvents);
      assert.deepEqual(
        got.epochs.map((e) => e.epoch),
        want.epochs.map((_, i) => i),
      );
      assert.ok(want.stops.length === 1 && want.learningRates.length >= 1, 'the configuration exercises stop and plateau');
      assert.deepEqual(got, want);

      // The CSV holds every epoch once, byte for byte as the uninterrupted run wrote it.
      const csv = await readFile(join(dir, 'log.csv'), 'utf8');
      assert.equal(csv, await readFile(join(refDir, 'log.csv'), 'utf8'));
      assert.equal(csv.trim().split('\n').length, want.epochs.length + 1);

      // The best checkpoint loads and holds the reference's best weights; the final weights are equal.
      const best = await loadCheckpoint(join(dir, 'best'));
      const refBest = await loadCheckpoint(join(refDir, 'best'));
      assert.deepEqual(
        best.getWeights().map((w) => Array.from(w.dataSync())),
        refBest.getWeights().map((w) => Array.from(w.dataSync())),
      );
      assert.deepEqual(
        JSON.parse(await readFile(join(dir, 'final-weights.json'), 'utf8')),
        JSON.parse(await readFile(join(refDir, 'final-weights.json'), 'utf8')),
      );
      assert.equal(await exists(join(dir, 'backup')), false, 'the finished run deleted its backup');

      // What-if on the log: the same early-stopping policy stops where the run stopped.
      const whatIf = await lastValueFrom(
        readEventLog(join(dir, 'events.jsonl')).pipe(simulate(earlyStopping({ monitor: 'val_loss', patience: 5 }))),
      );
      assert.equal(whatIf.stoppedAt, want.stops[0]!.epoch);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
