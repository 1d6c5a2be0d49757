import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { scriptedRun } from '@rxfit/core/testing';
import { readEventLog } from '@rxfit/event-log';
import type { TrainingEvent } from '@rxfit/core';
import { of, withDir } from './helpers.js';
import { asha, choice, formatLeaderboard, gridSampler, leaderboardOf, medianPruner, readSweepLog, sweep, type TrialFunction } from '@rxfit/sweep';

/** val_acc climbs towards `lr`'s ceiling: the larger lr, the better every epoch. */
const scripted: TrialFunction = (params, context) => {
  const ceiling = Number(params['lr']);
  return scriptedRun(
    Array.from({ length: 9 }, (_, e) => ({ loss: 1 / (e + 1), val_acc: ceiling * (1 - 0.5 / (e + 1)) })),
    { runId: context.trialId },
  );
};


describe('sweep (in process)', () => {
  it('ASHA prunes the worse trials through their own control and keeps every log', async () => {
    await withDir(async (dir) => {
      const events = await lastValueFrom(
        sweep({
          space: { lr: choice([0.9, 0.5, 0.8, 0.3, 0.95, 0.2]) },
          trial: scripted,
          sampler: gridSampler(),
          pruner: asha({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }),
          metric: 'val_acc',
          maxTrials: 6,
          dir,
        }).pipe(toArray()),
      );
      const pruned = of(events, 'trialPruned').map((e) => e.trialId);
      // Arriving in order 0.9, 0.5, 0.8, 0.3, 0.95, 0.2: each is compared with the trials before it.
      assert.deepEqual(pruned, ['trial-0001', 'trial-0002', 'trial-0003', 'trial-0005']);
      const completed = of(events, 'trialCompleted');
      assert.equal(completed.length, 6);
      const byId = new Map(completed.map((e) => [e.trialId, e.result]));
      assert.equal(byId.get('trial-0001')?.reason, 'pruned');
      assert.equal(byId.get('trial-0001')?.epochs, 1);
      assert.deepEqual(byId.get('trial-0001')?.prunedAt, { epoch: 0, rung: 0, milestone: 1 });
      assert.equal(byId.get('trial-0004')?.reason, 'stopped', 'maxT 9 stops the trial at its 9th epoch');
      const end = of(events, 'sweepEnd')[0]!;
      assert.equal(end.best?.trialId, 'trial-0004');
      assert.deepEqual([end.completed, end.pruned, end.failed], [2, 4, 0]);

      // The pruned trial's own log records the stop, by 'sweep', with the rung.
      const trialLog = await lastValueFrom(readEventLog(path.join(dir, 'trials/trial-0001/events.jsonl')).pipe(toArray()));
      const stop = trialLog.find((e) => e.type === 'stopRequested') as Extract<TrainingEvent, { type: 'stopRequested' }>;
      assert.equal(stop.by, 'sweep');
      assert.match(stop.reason, /rung 0/);
      assert.equal((stop as unknown as { details: { rung: number } }).details.rung, 0);
      assert.equal(trialLog.at(-1)?.type, 'trainEnd');
      assert.deepEqual(trialLog.map((e) => e.seq), trialLog.map((_, i) => i));

      // The sweep log holds every decision, and replays into the same leaderboard.
      const logged = readSweepLog(path.join(dir, 'sweep.jsonl'));
      assert.deepEqual(logged.map((e) => e.type), events.filter((e) => e.type !== 'trialEvent').map((e) => e.type));
      const board = leaderboardOf(logged);
      assert.equal(board.rows[0]?.trialId, 'trial-0004');
      assert.match(formatLeaderboard(board), /trial-0001\s+lr=0\.500\s+0\.2500 \(epoch 1\)\s+1\s+epoch 1, rung 0\s+pruned/);
    });
  });

  it('resumes from its log: finished trials are not run again, the pruner state is rebuilt', async () => {
    await withDir(async (dir) => {
      const runs: string[] = [];
      const counting: TrialFunction = (params, context) => {
        runs.push(context.trialId);
        return scripted(params, context);
      };
      const options = {
        space: { lr: choice([0.9, 0.5, 0.8, 0.3]) }, trial: counting, sampler: gridSampler(),
        pruner: asha({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }), metric: 'val_acc', maxTrials: 4, dir,
      };
      await lastValueFrom(sweep(options).pipe(toArray()));
      // A crash after trial-0002 started: cut the log there (a torn last line too).
      const file = path.join(dir, 'sweep.jsonl');
      const lines = (await readFile(file, 'utf8')).split('\n');
      const cut = lines.findIndex((l) => l.includes('"trialStarted"') && l.includes('trial-0002'));
      await writeFile(file, lines.slice(0, cut + 1).join('\n') + '\n{"sweepId":"torn');
      runs.length = 0;
      const events = await lastValueFrom(sweep(options).pipe(toArray()));
      assert.deepEqual(runs, ['trial-0002', 'trial-0003'], 'trials 0 and 1 finished before the crash');
      const begins = of(events, 'sweepBegin');
      assert.deepEqual(begins.map((e) => [e.resumed, e.replayed]), [[false, true], [true, undefined]], 'the log replays first');
      assert.deepEqual(leaderboardOf(events).rows.map((r) => r.status).sort(), ['pruned', 'pruned', 'pruned', 'stopped']);
      // Rebuilt from trial 0 and 1's logs, ASHA prunes trials 2 and 3 as the first sweep did.
      assert.deepEqual(of(events, 'trialPruned').filter((e) => !e.replayed).map((e) => e.trialId), ['trial-0002', 'trial-0003']);
      const logged = readSweepLog(file);
      assert.deepEqual(logged.map((e) => e.seq), logged.map((_, i) => i), 'seq goes on without a gap');
      assert.equal(of(logged, 'trialCompleted').length, 4);
    });
  });

  it('the median pruner waits for its startup trials, then prunes below the median', async () => {
    await withDir(async (dir) => {
      const events = await lastValueFrom(
        sweep({
          space: { lr: choice([0.9, 0.8, 0.3, 0.87]) }, trial: scripted, sampler: gridSampler(),
          pruner: medianPruner({ nStartupTrials: 2 }), metric: 'val_acc', maxTrials: 4, dir,
        }).pipe(toArray()),
      );
      assert.deepEqual(of(events, 'trialPruned').map((e) => [e.trialId, e.epoch]), [['trial-0002', 0]]);
      assert.equal(of(events, 'trialCompleted').find((e) => e.trialId === 'trial-0003')?.result.epochs, 9);
    });
  });

  it('checks its options when called', () => {
    const base = { space: { lr: choice([1]) }, trial: scripted, metric: 'val_acc', maxTrials: 1, dir: 'x' };
    assert.throws(() => sweep({ ...base, maxTrials: 0 }), /maxTrials must be an integer >= 1, got 0/);
    assert.throws(() => sweep({ ...base, max_trials: 3 } as never), /maxTrials/);
    assert.throws(() => sweep({ ...base, metric: 'weird' }), /give mode/);
    assert.throws(() => sweep({ ...base, space: {} }), /space must be a non-empty object/);
  });
});
