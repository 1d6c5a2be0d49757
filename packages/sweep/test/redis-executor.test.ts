import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject, lastValueFrom, tap, toArray } from 'rxjs';
import { asha, choice, gridSampler, readSweepLog, sweep, type SweepEvent } from '@rxfit/sweep';
import { redisExecutor } from '@rxfit/sweep/redis';
import { assertCompleteLog, assertSecondTrialPruned } from './gap-free.js';
import { of } from './helpers.js';
import { NO_REDIS, testRedis } from './redis-server.js';

const TRIAL = fileURLToPath(new URL('./fixtures/tiny-trial.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

let redis: Awaited<ReturnType<typeof testRedis>>;
const children: ChildProcess[] = [];

/** Runs `body` with the test Redis' URL, a fresh queue name and a temporary sweep folder; skips without Redis. */
async function inSweepDir(t: TestContext, body: (url: string, queue: string, dir: string) => Promise<void>): Promise<void> {
  if (!redis) {
    t.skip(NO_REDIS);
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-sweep-redis-'));
  try {
    await body(redis.url, `rxfit-sweep-test-${randomUUID()}`, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function startWorker(url: string, queue: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [...process.execArgv, CLI, 'worker', '--redis', url, '--module', TRIAL, '--queue', queue, '--lock-duration', '2000', '--stalled-interval', '1000'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(child);
  return child;
}

describe('redis executor: BullMQ jobs, two worker processes', { timeout: 90_000 }, () => {
  before(async () => {
    redis = await testRedis();
    if (!redis) {
      if (process.env['CI'] === 'true') throw new Error(`CI=true requires Redis: ${NO_REDIS}`);
      process.stderr.write(`# @rxfit/sweep: ${NO_REDIS}\n`);
    }
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    redis?.stop();
  });

  it('a worker SIGKILLed mid-trial: its job stalls, another worker resumes the trial, every trial completes once', async (t) => {
    await inSweepDir(t, async (url, queue, dir) => {
      const a = startWorker(url, queue);
      startWorker(url, queue);
      const killed = new Subject<string>();
      let victim: string | undefined;
      const events = await lastValueFrom(
        sweep({
          space: { units: choice([3, 4, 5]), slow: choice([40]), epochs: choice([6]) }, trial: TRIAL, sampler: gridSampler(),
          metric: 'val_acc', maxTrials: 3, concurrency: 3, dir, executor: redisExecutor({ redis: url, queue, blockMs: 200 }),
        }).pipe(
          tap((e) => {
            // Kill worker a once a trial it runs has ended epoch 1 (a backup of epoch 0 exists).
            if (victim || e.type !== 'trialEvent' || e.event.type !== 'epochEnd' || e.event.epoch !== 1) return;
            const running = events$.find((r) => r.type === 'trialRunning' && r.trialId === e.trialId);
            if (running?.type === 'trialRunning' && running.worker.endsWith(`:${String(a.pid)}`)) {
              victim = e.trialId;
              a.kill('SIGKILL');
              killed.next(e.trialId);
            }
          }),
          tap((e) => events$.push(e)),
          toArray(),
        ),
      );
      assert.ok(victim, 'worker a ran a trial and was killed mid-trial');
      const completed = of(events, 'trialCompleted');
      assert.deepEqual(completed.map((e) => e.trialId).sort(), ['trial-0000', 'trial-0001', 'trial-0002'], 'every trial completes, once');
      assert.equal(of(events, 'trialFailed').length, 0);
      const retried = of(events, 'trialRetried');
      assert.deepEqual(retried.map((e) => e.trialId), [victim]);
      const runningOn = of(events, 'trialRunning').filter((e) => e.trialId === victim).map((e) => e.worker);
      assert.equal(new Set(runningOn).size, 2, `${victim} ran on two workers: ${runningOn.join(', ')}`);
      for (const e of completed) {
        assert.equal(e.result.epochs, 6);
        const log = await assertCompleteLog(path.join(dir, 'trials', e.trialId, 'events.jsonl'), 6);
        if (e.trialId === victim) assert.equal(log.filter((x) => x.type === 'trainBegin').length, 2, 'resumed from its backup');
      }
      assert.equal(of(readSweepLog(path.join(dir, 'sweep.jsonl')), 'trialCompleted').length, 3);
    });
  });

  it('a pruning decision reaches the worker through the trial\'s stop key', async (t) => {
    await inSweepDir(t, async (url, queue, dir) => {
      startWorker(url, queue);
      const events = await lastValueFrom(
        sweep({
          space: { ceiling: choice([0.9, 0.3]) }, trial: TRIAL, sampler: gridSampler(), metric: 'val_acc', maxTrials: 2, dir,
          pruner: asha({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }), executor: redisExecutor({ redis: url, queue, blockMs: 200 }),
        }).pipe(toArray()),
      );
      await assertSecondTrialPruned(events, dir);
    });
  });

  it('a coordinator that restarts follows the jobs already queued or running: no trial runs twice', async (t) => {
    await inSweepDir(t, async (url, queue, dir) => {
      startWorker(url, queue);
      const options = {
        space: { units: choice([3, 4]), slow: choice([40]), epochs: choice([5]) }, trial: TRIAL, sampler: gridSampler(),
        metric: 'val_acc', maxTrials: 2, concurrency: 2, dir, executor: redisExecutor({ redis: url, queue, blockMs: 200 }),
      };
      // The first coordinator goes away once trial-0000 has ended epoch 1; trial-0001 waits in the queue.
      await new Promise<void>((resolve, reject) => {
        const subscription = sweep(options).subscribe({
          next: (e) => {
            if (e.type === 'trialEvent' && e.event.type === 'epochEnd' && e.event.epoch === 1) {
              subscription.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
      const events = await lastValueFrom(sweep(options).pipe(toArray()));
      const live = events.filter((e) => !e.replayed);
      assert.deepEqual(of(live, 'trialCompleted').map((e) => e.trialId).sort(), ['trial-0000', 'trial-0001']);
      assert.equal(of(live, 'trialRetried').length, 0);
      for (const e of of(live, 'trialCompleted')) {
        assert.equal(e.result.epochs, 5, 'epochs run while no coordinator listened are read from the trial log');
        const log = await assertCompleteLog(path.join(dir, 'trials', e.trialId, 'events.jsonl'), 5);
        assert.equal(log.filter((x) => x.type === 'trainBegin').length, 1, `${e.trialId} ran once, never restarted`);
      }
      assert.equal(of(readSweepLog(path.join(dir, 'sweep.jsonl')), 'trialCompleted').length, 2);
    });
  });
});

const events$: SweepEvent[] = [];
