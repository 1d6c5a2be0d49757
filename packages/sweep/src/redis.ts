/**
 * The distributed executor: trials are BullMQ jobs on Redis, run by workers on any machine
 * (`rxfit-sweep worker --redis URL --module ./trial.js`, or {@link sweepWorker}). Trial events
 * flow back through a Redis Stream per sweep; a pruning decision is a key per trial that the
 * worker running it polls.
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  checkInteger,
  checkOptions,
  checkString,
  nonFiniteReplacer,
  nonFiniteReviver,
} from '@rxfit/core/operator-kit';
import { loadTrial, runTrial } from './runner.js';
import type { Executor, ExecutionOutcome, RunnerOutcome, StopOrder, TrialFunction, TrialMessage, TrialSpec } from './types.js';

/** The queue both sides use unless told otherwise. */
export const DEFAULT_QUEUE = 'rxfit-sweep';

type StreamMessage = TrialMessage | { readonly kind: 'done'; readonly trialId: string; readonly attempt: number; readonly outcome: RunnerOutcome };
interface JobData {
  readonly spec: TrialSpec;
}

const eventsKey = (sweepId: string): string => `rxfit-sweep:${sweepId}:events`;
const stopKey = (sweepId: string, trialId: string): string => `rxfit-sweep:${sweepId}:stop:${trialId}`;
const jobIdOf = (spec: Pick<TrialSpec, 'sweepId' | 'trialId'>, attempt: number): string => `${spec.sweepId}.${spec.trialId}.${String(attempt)}`;

function connect(url: string): Redis {
  // BullMQ's blocking commands need maxRetriesPerRequest: null.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** Options of {@link redisExecutor}. */
export interface RedisExecutorOptions {
  /** The Redis URL: `redis://host:6379`. */
  readonly redis: string;
  /** The BullMQ queue the workers listen on. @default 'rxfit-sweep' */
  readonly queue?: string;
  /** Longest wait of one XREAD on the events stream, in ms. @default 1000 */
  readonly blockMs?: number;
}

/**
 * Runs trials as BullMQ jobs on Redis: `sweep({ ..., trial: './trial.js', executor: redisExecutor({ redis }) })`
 * with workers started on any machine that sees the sweep's folder (`rxfit-sweep worker`). A
 * worker that dies mid-trial stops renewing its job's lock; BullMQ's stalled-job check puts the
 * job back, another worker takes it and the trial resumes from its backup. A job that stalls
 * more than the workers' `maxStalledCount` fails, and the sweep retries or fails the trial
 * (`retries`), saying which.
 *
 * ## Example
 * ```ts
 * import { sweep } from '@rxfit/sweep';
 * import { redisExecutor } from '@rxfit/sweep/redis';
 * sweep({ ..., trial: './trial.js', executor: redisExecutor({ redis: 'redis://127.0.0.1:6379' }) });
 * ```
 * @param options - See {@link RedisExecutorOptions}.
 * @returns The executor.
 * @throws TypeError/RangeError for bad options.
 */
export function redisExecutor(options: RedisExecutorOptions): Executor {
  checkOptions('redisExecutor', options, ['redis', 'queue', 'blockMs']);
  const { redis, queue: queueName = DEFAULT_QUEUE, blockMs = 1000 } = options;
  checkString('redisExecutor', 'redis', redis);
  checkString('redisExecutor', 'queue', queueName);
  checkInteger('redisExecutor', 'blockMs', blockMs, 1);
  return {
    name: `redis(${queueName})`,
    open: async (context) => {
      const key = eventsKey(context.sweepId);
      const commands = connect(redis);
      const reader = connect(redis);
      const queueConnection = connect(redis);
      const eventsConnection = connect(redis);
      // BullMQ does not close connections it was given: close() below does.
      const queue = new Queue<JobData>(queueName, { connection: queueConnection });
      const queueEvents = new QueueEvents(queueName, { connection: eventsConnection });
      await queueEvents.waitUntilReady();
      const pending = new Map<string, { trialId: string; resolve: (outcome: ExecutionOutcome) => void }>();
      const byTrial = new Map<string, string>();
      const settle = (jobId: string, outcome: ExecutionOutcome): void => {
        const entry = pending.get(jobId);
        if (!entry) return;
        pending.delete(jobId);
        if (byTrial.get(entry.trialId) === jobId) byTrial.delete(entry.trialId);
        entry.resolve(outcome);
      };
      queueEvents.on('failed', ({ jobId, failedReason }) => {
        settle(jobId, { status: 'lost', reason: `job ${jobId} failed in BullMQ: ${failedReason}`, retriable: true });
      });
      // Read from the stream's current end: whatever a recovered job says from now on is seen.
      const tip = (await commands.xrevrange(key, '+', '-', 'COUNT', 1))[0];
      let lastId = tip ? tip[0] : '0';
      let closing = false;
      const readLoop = (async () => {
        while (!closing) {
          let reply: [string, [string, string[]][]][] | null;
          try {
            reply = (await reader.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', key, lastId));
          } catch (error) {
            if (closing) return;
            throw error;
          }
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              lastId = id;
              const message = JSON.parse(fields[1] ?? 'null', nonFiniteReviver) as StreamMessage;
              if (message.kind === 'done') {
                const jobId = byTrial.get(message.trialId);
                if (jobId) settle(jobId, { status: 'finished', outcome: message.outcome });
              } else if (byTrial.has(message.trialId)) {
                context.onMessage(message);
              }
            }
          }
        }
      })();
      readLoop.catch((error: unknown) => {
        for (const jobId of [...pending.keys()]) settle(jobId, { status: 'lost', reason: `reading ${key} failed: ${String(error)}`, retriable: false });
      });

      const track = (spec: TrialSpec, jobId: string) => {
        byTrial.set(spec.trialId, jobId);
        const done = new Promise<ExecutionOutcome>((resolve) => pending.set(jobId, { trialId: spec.trialId, resolve }));
        return {
          stop: (order: StopOrder) => {
            void commands.set(stopKey(spec.sweepId, spec.trialId), JSON.stringify(order, nonFiniteReplacer), 'EX', 7 * 24 * 3600);
          },
          done,
        };
      };

      return {
        run(spec) {
          const jobId = jobIdOf(spec, spec.attempt);
          const execution = track(spec, jobId);
          queue
            .add('trial', { spec }, { jobId, attempts: 1, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } })
            .catch((error: unknown) => {
              settle(jobId, { status: 'lost', reason: `adding job ${jobId} to ${queueName} failed: ${String(error)}`, retriable: false });
            });
          return execution;
        },
        async recover(spec) {
          // The coordinator restarted: the previous attempt's job may still be queued, running or done.
          const jobId = jobIdOf(spec, spec.attempt - 1);
          const job = (await queue.getJob(jobId)) as Job<JobData, RunnerOutcome> | undefined;
          if (!job) return undefined;
          const state = await job.getState();
          if (state === 'failed' || state === 'unknown') return undefined;
          const execution = track(spec, jobId);
          if (state === 'completed') settle(jobId, { status: 'finished', outcome: job.returnvalue });
          return execution;
        },
        async close() {
          closing = true;
          await Promise.allSettled([queueEvents.close(), queue.close()]);
          for (const connection of [reader, commands, queueConnection, eventsConnection]) connection.disconnect();
          await readLoop.catch(() => {});
        },
      };
    },
  };
}

/** Options of {@link sweepWorker}. */
export interface SweepWorkerOptions {
  /** The Redis URL: `redis://host:6379`. */
  readonly redis: string;
  /** The trial: a module path exporting `trial`, or the function. */
  readonly trial: TrialFunction | string;
  /** The BullMQ queue. @default 'rxfit-sweep' */
  readonly queue?: string;
  /** Trials this worker runs at once (they share its tfjs backend). @default 1 */
  readonly concurrency?: number;
  /** BullMQ's job lock, renewed while the trial runs; a dead worker's job stalls after it. @default 30000 */
  readonly lockDuration?: number;
  /** How often BullMQ looks for stalled jobs, in ms. @default 30000 */
  readonly stalledInterval?: number;
  /** How many stalls a job survives before it fails. @default 1 */
  readonly maxStalledCount?: number;
  /** How often a running trial polls its stop key, in ms. @default 250 */
  readonly pollInterval?: number;
}

/** A running worker. */
export interface SweepWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/**
 * Takes trials off the queue and runs them in this process: the API behind
 * `rxfit-sweep worker --redis URL --module ./trial.js`. Every event but batches goes to the
 * sweep's Redis stream; the trial stops (as pruned) when its stop key appears.
 *
 * ## Example
 * ```ts
 * import { sweepWorker } from '@rxfit/sweep/redis';
 * const worker = await sweepWorker({ redis: 'redis://127.0.0.1:6379', trial: './trial.js' });
 * process.on('SIGTERM', () => void worker.close());
 * ```
 * @param options - See {@link SweepWorkerOptions}.
 * @returns The worker, already listening.
 * @throws TypeError/RangeError for bad options; an error when the trial module cannot be loaded.
 */
export async function sweepWorker(options: SweepWorkerOptions): Promise<SweepWorker> {
  checkOptions('sweepWorker', options, ['redis', 'trial', 'queue', 'concurrency', 'lockDuration', 'stalledInterval', 'maxStalledCount', 'pollInterval']);
  const { redis, queue = DEFAULT_QUEUE, concurrency = 1, lockDuration = 30_000, stalledInterval = 30_000, maxStalledCount = 1, pollInterval = 250 } = options;
  checkString('sweepWorker', 'redis', redis);
  checkString('sweepWorker', 'queue', queue);
  checkInteger('sweepWorker', 'concurrency', concurrency, 1);
  checkInteger('sweepWorker', 'lockDuration', lockDuration, 100);
  checkInteger('sweepWorker', 'stalledInterval', stalledInterval, 100);
  checkInteger('sweepWorker', 'maxStalledCount', maxStalledCount, 0);
  checkInteger('sweepWorker', 'pollInterval', pollInterval, 1);
  const trial = typeof options.trial === 'string' ? await loadTrial(options.trial) : options.trial;
  const publisher = connect(redis);
  const me = `${hostname()}:${String(process.pid)}`;
  const workerConnection = connect(redis);
  const worker = new Worker<JobData, RunnerOutcome>(
    queue,
    async (job) => {
      const base = job.data.spec;
      // A job picked up again after a stall is the trial's next attempt.
      const spec: TrialSpec = { ...base, attempt: base.attempt + Math.max(0, job.attemptsStarted - 1) };
      const stream = eventsKey(spec.sweepId);
      let last: Promise<unknown> = Promise.resolve();
      const send = (message: StreamMessage): void => {
        // One connection keeps the order; MAXLEN ~ bounds the stream.
        last = publisher.xadd(stream, 'MAXLEN', '~', '1000000', '*', 'm', JSON.stringify(message, nonFiniteReplacer)).catch(() => {});
      };
      let order: StopOrder | undefined;
      const poll = async (): Promise<void> => {
        const text = await publisher.get(stopKey(spec.sweepId, spec.trialId)).catch(() => null);
        if (text) order ??= JSON.parse(text, nonFiniteReviver) as StopOrder;
      };
      await poll();
      const timer = setInterval(() => void poll(), pollInterval);
      try {
        const outcome = await runTrial(trial, spec, { send, stopOrder: () => order, flush: () => last.then(() => {}) }, me);
        send({ kind: 'done', trialId: spec.trialId, attempt: spec.attempt, outcome });
        await last;
        return outcome;
      } finally {
        clearInterval(timer);
      }
    },
    { connection: workerConnection, concurrency, lockDuration, stalledInterval, maxStalledCount },
  );
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close();
      publisher.disconnect();
      workerConnection.disconnect();
    },
  };
}
