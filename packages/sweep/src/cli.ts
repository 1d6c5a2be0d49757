#!/usr/bin/env node
/**
 * `rxfit-sweep worker --redis URL --module ./trial.js`: a worker of the distributed executor.
 */
import { parseArgs } from 'node:util';

// The Redis executor's libraries are optional peers: say how to get them instead of a stack trace.
const redis = await import('./redis.js').catch((error: unknown) => {
  process.stderr.write(
    `rxfit-sweep worker needs bullmq and ioredis (optional peers of @rxfit/sweep): npm install bullmq ioredis\n(${String(error)})\n`,
  );
  process.exit(2);
});
const { DEFAULT_QUEUE, sweepWorker } = redis;

const usage = `Usage: rxfit-sweep worker --redis URL --module PATH [options]

Runs sweep trials that a coordinator (sweep with redisExecutor) puts on a BullMQ queue.
The module exports trial(params, context); the sweep's folder must be reachable at the same path.

Options:
  --redis URL              Redis, for example redis://127.0.0.1:6379 (required)
  --module PATH            the trial module (required)
  --queue NAME             the BullMQ queue (default ${DEFAULT_QUEUE})
  --concurrency N          trials at once in this process (default 1)
  --lock-duration MS       BullMQ job lock (default 30000)
  --stalled-interval MS    stalled-job check period (default 30000)
  --max-stalled-count N    stalls a job survives (default 1)
  --help                   print this help
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    redis: { type: 'string' },
    module: { type: 'string' },
    queue: { type: 'string', default: DEFAULT_QUEUE },
    concurrency: { type: 'string', default: '1' },
    'lock-duration': { type: 'string', default: '30000' },
    'stalled-interval': { type: 'string', default: '30000' },
    'max-stalled-count': { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || positionals[0] !== 'worker' || !values.redis || !values.module) {
  process.stdout.write(usage);
  process.exitCode = values.help ? 0 : 2;
} else {
  const worker = await sweepWorker({
    redis: values.redis,
    trial: values.module,
    queue: values.queue,
    concurrency: Number(values.concurrency),
    lockDuration: Number(values['lock-duration']),
    stalledInterval: Number(values['stalled-interval']),
    maxStalledCount: Number(values['max-stalled-count']),
  });
  process.stdout.write(`rxfit-sweep worker ${String(process.pid)} on ${values.queue} at ${values.redis}\n`);
  const stop = (): void => {
    void worker.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
