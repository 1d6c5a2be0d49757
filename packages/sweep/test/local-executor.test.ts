import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { asha, choice, gridSampler, readSweepLog, sweep } from '@rxfit/sweep';
import { assertCompleteLog, assertSecondTrialPruned } from './gap-free.js';
import { of, withDir } from './helpers.js';

const TRIAL = fileURLToPath(new URL('./fixtures/tiny-trial.ts', import.meta.url));

describe('local executor: trials in child processes', { timeout: 60_000 }, () => {
  it('a trial killed with SIGKILL is retried, resumes from its backup, and its log is complete', async () => {
    await withDir(async (dir) => {
      const events = await lastValueFrom(
        sweep({
          space: { crash: choice(['none', 'sigkill']) }, trial: TRIAL, sampler: gridSampler(),
          metric: 'val_acc', maxTrials: 2, concurrency: 2, dir,
        }).pipe(toArray()),
      );
      const retried = of(events, 'trialRetried');
      assert.equal(retried.length, 1);
      assert.equal(retried[0]?.trialId, 'trial-0001');
      assert.match(retried[0].reason, /killed by SIGKILL; retry 1 of 1, resuming from its backup/);
      const completed = of(events, 'trialCompleted');
      assert.deepEqual(completed.map((e) => e.trialId).sort(), ['trial-0000', 'trial-0001']);
      for (const e of completed) assert.equal(e.result.epochs, 4);
      const workers = of(events, 'trialRunning').filter((e) => e.trialId === 'trial-0001').map((e) => e.worker);
      assert.equal(new Set(workers).size, 2, 'the retry ran in a new process');
      const log = await assertCompleteLog(path.join(dir, 'trials/trial-0001/events.jsonl'), 4);
      assert.equal(log.filter((e) => e.type === 'trainBegin').length, 2, 'started, then resumed');
      await assertCompleteLog(path.join(dir, 'trials/trial-0000/events.jsonl'), 4);
      assert.equal(of(readSweepLog(path.join(dir, 'sweep.jsonl')), 'trialRetried').length, 1);
    });
  });

  it('with no retries left a killed trial is marked failed, saying why', async () => {
    await withDir(async (dir) => {
      const events = await lastValueFrom(
        sweep({
          space: { crash: choice(['sigkill']) }, trial: TRIAL, metric: 'val_acc', maxTrials: 1, retries: 0, dir,
        }).pipe(toArray()),
      );
      const failed = of(events, 'trialFailed');
      assert.equal(failed.length, 1);
      assert.match(failed[0]!.error, /^trial process \d+ killed by SIGKILL; no retries left \(1 attempt, retries: 0\)/);
      // Epoch 1's events may die with the process before they reach the sweep; epoch 0's arrived.
      assert.ok([1, 2].includes(failed[0]!.result.epochs), `epochs ${String(failed[0]!.result.epochs)}`);
      const end = of(events, 'sweepEnd')[0]!;
      assert.deepEqual([end.completed, end.failed], [0, 1]);
    });
  });

  it('a pruning decision reaches the trial process, which stops through its own control', async () => {
    await withDir(async (dir) => {
      const events = await lastValueFrom(
        sweep({
          space: { ceiling: choice([0.9, 0.3]) }, trial: TRIAL, sampler: gridSampler(), metric: 'val_acc', maxTrials: 2, dir,
          pruner: asha({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }),
        }).pipe(toArray()),
      );
      await assertSecondTrialPruned(events, dir);
    });
  });
});
