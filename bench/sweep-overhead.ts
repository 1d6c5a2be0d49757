/**
 * What a sweep costs on top of its trials: the same trials' fits run directly and through each
 * executor, side by side, alternated, in one command; prints the wall times and the overhead
 * ratio (goal ≤ 2% of trial time on both executors).
 *
 * - local: the baseline runs each trial's fit in a fresh Node process of its own (as the local
 *   executor does), sequentially; the sweep runs them with `concurrency: 1` in child processes.
 * - redis: the baseline runs all the fits in one process; the sweep runs them as BullMQ jobs on one
 *   worker process (needs RXFIT_REDIS_URL or redis-server on PATH). Both processes are started and
 *   loaded (tfjs, the trial module) before the clock starts, as a deployed worker is; their cpu is
 *   read from /proc/<pid>/stat around the measured part.
 *
 * What the ratio covers: IPC or Redis round trips of every event but batches, the sweep log (one
 * fsynced line per sweep event), the pruner's decisions (ASHA) and the scheduling between trials.
 * Two measures: CPU time (this process, its children, and Redis' own `used_cpu_*`), which a busy
 * shared machine disturbs little, and wall time, which it does (other jobs steal cores at random).
 *
 *   node --conditions=@rxfit/source --import tsx bench/sweep-overhead.ts [rounds]   (BENCH_SWEEP_EPOCHS=30)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, tap } from 'rxjs';
import { asha, choice, gridSampler, sweep, trialIdOf, type SweepEvent, type TrialSpec } from '@rxfit/sweep';
import { redisExecutor } from '@rxfit/sweep/redis';
import { Redis } from 'ioredis';
import { testRedis } from '../packages/sweep/test/redis-server.js';
import { envInt, median } from './models.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TRIAL = path.join(here, 'sweep-trial.ts');
const DIRECT = path.join(here, 'sweep-direct.ts');
const CLI = path.join(here, '../packages/sweep/src/cli.ts');
const NODE = [...process.execArgv];
// Epochs per trial (BENCH_SWEEP_EPOCHS): about 0.25 s of cpu-backend work each on the 2-core machine.
const EPOCHS = envInt('BENCH_SWEEP_EPOCHS', 30);
const space = { units: choice([32, 64, 96]), lr: choice([0.01]), epochs: choice([EPOCHS]) };
const TRIALS = 3;

function node(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${String(code)}`))));
  });
}

/** CPU ms from a Linux /proc/<pid>/stat: the clock ticks (10 ms) in fields `first` and `first + 1` after the name. */
function statCpuMs(file: string, first: number): number {
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[first]) + Number(fields[first + 1])) * 10;
}

/** CPU ms of this process's children that exited (cutime + cstime); NaN where /proc is missing. */
function exitedChildrenCpuMs(): number {
  try {
    return statCpuMs('/proc/self/stat', 13);
  } catch {
    return NaN;
  }
}

async function redisCpuMs(url: string | undefined): Promise<number> {
  if (!url) return 0;
  const client = new Redis(url);
  try {
    const info = await client.info('cpu');
    const get = (key: string) => Number(new RegExp(`${key}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

interface Measure {
  readonly wall: number;
  /** This process, its children and Redis. */
  readonly cpu: number;
  /** This process alone: the coordinator when the sweep runs. */
  readonly self: number;
  /** Redis' own cpu. */
  readonly redis: number;
}

const selfMs = (): number => {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1000;
};

/**
 * Measures `f`: wall time, and the cpu of this process, Redis and `others` (by default the
 * children that exited meanwhile; a live worker's own cpu when given).
 */
async function timed(f: () => Promise<unknown>, redisUrl?: string, others: () => number = exitedChildrenCpuMs): Promise<Measure> {
  const [o0, self0, r0, start] = [others(), selfMs(), await redisCpuMs(redisUrl), performance.now()];
  await f();
  const wall = performance.now() - start;
  const self = selfMs() - self0;
  const redis = (await redisCpuMs(redisUrl)) - r0;
  return { wall, cpu: others() - o0 + self + redis, self, redis };
}

/** Resolves with the first stdout line of `child` that matches. */
function line(child: ChildProcess, match: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (match.test(text)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before printing ${String(match)}: ${text}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

function specs(dir: string): TrialSpec[] {
  const sampler = gridSampler();
  return Array.from({ length: TRIALS }, (_, index) => ({
    sweepId: 'direct', trialId: trialIdOf(index), index, params: sampler.sample(space, index)!, attempt: 1, dir: path.join(dir, 'trials', trialIdOf(index)),
  }));
}

/**
 * Hand-off latency, per trial, read off the sweep's own events: from `trialStarted` (the sweep hands
 * the trial over) to `trialRunning` (its process took it), and from the trial's `trainEnd` to
 * `trialCompleted` (the sweep knows). Appends one sample (ms) per trial to `into`.
 */
function handOffs(into: { start: number[]; end: number[] }) {
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  return tap((e: SweepEvent) => {
    if (e.type === 'trialStarted') started.set(e.trialId, e.time);
    if (e.type === 'trialRunning') into.start.push(e.time - (started.get(e.trialId) ?? e.time));
    if (e.type === 'trialEvent' && e.event.type === 'trainEnd') ended.set(e.trialId, e.event.time);
    if (e.type === 'trialCompleted') into.end.push(e.time - (ended.get(e.trialId) ?? e.time));
  });
}

const sweepOf = (dir: string, executor?: ReturnType<typeof redisExecutor>) =>
  sweep({
    space, trial: TRIAL, sampler: gridSampler(), metric: 'val_acc', maxTrials: TRIALS, concurrency: 1, dir,
    // maxT above the trials' epochs: ASHA decides at every rung but prunes nothing, so both sides train the same epochs.
    pruner: asha({ gracePeriod: 1, maxT: 100, reductionFactor: 1000 }),
    ...(executor ? { executor } : {}),
  });

/** Runs the comparison and prints it. */
export async function main(rounds = 2): Promise<void> {
  const redis = await testRedis();
  const stopRedis = () => {
    redis?.stop();
    process.exit(130);
  };
  process.once('SIGINT', stopRedis).once('SIGTERM', stopRedis);
  const latency = { local: { start: [] as number[], end: [] as number[] }, redis: { start: [] as number[], end: [] as number[] } };
  const times: Record<string, Measure[]> = { 'local direct': [], 'local sweep': [], 'redis direct': [], 'redis sweep': [] };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so a drift in the machine's load does not favour one.
      const modes = round % 2 === 0 ? ['local direct', 'local sweep', 'redis direct', 'redis sweep'] : ['local sweep', 'local direct', 'redis sweep', 'redis direct'];
      for (const mode of modes) {
        if (mode.startsWith('redis') && !redis) continue;
        const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-bench-sweep-'));
        try {
          let ms: Measure;
          if (mode === 'local direct') {
            ms = await timed(async () => {
              for (const spec of specs(dir)) await node([DIRECT, JSON.stringify([spec])]);
            });
          } else if (mode === 'local sweep') {
            ms = await timed(() => lastValueFrom(sweepOf(dir).pipe(handOffs(latency.local))));
          } else if (mode === 'redis direct') {
            const child = spawn(process.execPath, [...NODE, DIRECT, JSON.stringify(specs(dir)), '--wait'], { stdio: ['pipe', 'pipe', 'ignore'] });
            try {
              await line(child, /ready/);
              ms = await timed(async () => {
                const done = line(child, /done/);
                child.stdin?.write('go\n');
                await done;
              }, redis!.url, () => statCpuMs(`/proc/${String(child.pid)}/stat`, 11));
            } finally {
              child.stdin?.end();
              await exited(child);
            }
          } else {
            const queue = `rxfit-bench-${String(process.pid)}-${String(round)}`;
            const url = redis!.url;
            const worker = spawn(process.execPath, [...NODE, CLI, 'worker', '--redis', url, '--module', TRIAL, '--queue', queue], { stdio: ['ignore', 'pipe', 'ignore'] });
            try {
              await line(worker, /rxfit-sweep worker/);
              ms = await timed(() => lastValueFrom(sweepOf(dir, redisExecutor({ redis: url, queue })).pipe(handOffs(latency.redis))), url, () => statCpuMs(`/proc/${String(worker.pid)}/stat`, 11));
            } finally {
              worker.kill('SIGTERM');
              await exited(worker);
            }
          }
          times[mode]!.push(ms);
          console.log(`round ${String(round + 1)} ${mode.padEnd(12)} wall ${(ms.wall / 1000).toFixed(2)} s, cpu ${(ms.cpu / 1000).toFixed(2)} s (this process ${(ms.self / 1000).toFixed(3)} s, redis ${(ms.redis / 1000).toFixed(3)} s)`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    redis?.stop();
  }
  for (const executor of ['local', 'redis']) {
    const direct = times[`${executor} direct`]!;
    const swept = times[`${executor} sweep`]!;
    if (direct.length === 0) {
      console.log(`${executor}: skipped (no Redis: set RXFIT_REDIS_URL or put redis-server on PATH)`);
      continue;
    }
    const line = (what: 'cpu' | 'wall') => {
      const d = median(direct.map((t) => t[what]));
      const w = median(swept.map((t) => t[what]));
      return `${what} ${(d / 1000).toFixed(2)} s direct, ${(w / 1000).toFixed(2)} s through the sweep: overhead ${(((w / d) - 1) * 100).toFixed(2)}%`;
    };
    // The coordinator is this process while the sweep runs (its share of the total cpu above).
    const coordinator = median(swept.map((t) => t.self));
    const share = (coordinator / median(direct.map((t) => t.cpu))) * 100;
    const handOff = latency[executor as 'local' | 'redis'];
    const trialWall = median(direct.map((t) => t.wall)) / TRIALS;
    const leg = (samples: number[]) => `${median(samples).toFixed(1)} ms (${((median(samples) / trialWall) * 100).toFixed(2)}% of a trial's wall time)`;
    const startLeg = executor === 'local'
      ? 'handed over -> running (starting the trial\'s Node process and loading its module, which the direct baseline pays too)'
      : 'handed over -> running (job added, taken by the started worker)';
    console.log(
      `${executor} (${String(TRIALS)} trials of ${String(EPOCHS)} epochs, medians of ${String(rounds)} rounds; goal <= 2%):\n` +
        `  ${line('cpu')}\n` +
        `  the coordinator's own cpu ${(coordinator / 1000).toFixed(3)} s = ${share.toFixed(2)}% of trial cpu\n` +
        `  per trial, median: ${startLeg} ${leg(handOff.start)}; its trainEnd -> the sweep knows ${leg(handOff.end)}\n` +
        `  ${line('wall')} (other jobs on the machine move this one most)`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(Number(process.argv[2] ?? '2'));
