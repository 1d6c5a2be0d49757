import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A Redis for the tests: `RXFIT_REDIS_URL` (CI's `.ci/run` starts one and exports it), else a
 * `redis-server` on PATH started on a free port for this file. `undefined` when neither exists:
 * the Redis tests are skipped, saying so, except under CI=true, where that is a failure.
 */
export async function testRedis(): Promise<{ url: string; stop: () => void } | undefined> {
  const fromEnv = process.env['RXFIT_REDIS_URL'];
  if (fromEnv) return { url: fromEnv, stop: () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = await freePort();
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${String(port)}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // not up yet: connect() rejects, and we try again
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      break;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline) {
        server.kill('SIGKILL');
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => server.kill('SIGKILL') };
}

/** Why the Redis tests did not run; under CI=true the caller fails with it. */
export const NO_REDIS = 'no Redis: set RXFIT_REDIS_URL or put redis-server on PATH (`apt-get install -y redis-server`); the Redis tests are skipped';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
