import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptions } from '@rxfit/core/operator-kit';
import type { Executor, ExecutionOutcome, RunnerOutcome, StopOrder, TrialMessage } from './types.js';

/** Options of {@link localExecutor}. */
export interface LocalExecutorOptions {
  /** Node options of the trial processes (`--import tsx` to run a TypeScript trial module). @default process.execArgv */
  readonly execArgv?: readonly string[];
  /** Environment of the trial processes. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each trial process once it started (its pid), for monitoring. @default none */
  readonly onSpawn?: (trialId: string, pid: number) => void;
}

const here = fileURLToPath(import.meta.url);
const CHILD = path.join(path.dirname(here), here.endsWith('.ts') ? 'child.ts' : 'child.js');

/**
 * Runs each trial in a child process of its own (`trial` must be a module path exporting
 * `trial`): a crash, an out-of-memory or a SIGKILL takes down that trial only. Its stdout and
 * stderr go to `output.log` in the trial's folder. A process that exits without reporting is
 * `lost`, and `sweep` retries it (`retries`) or marks it failed, saying which.
 *
 * ## Example
 * ```ts
 * import { localExecutor, sweep } from '@rxfit/sweep';
 * sweep({ ..., trial: './trial.js', concurrency: 2, executor: localExecutor() });
 * ```
 * @param options - See {@link LocalExecutorOptions}.
 * @returns The executor (the default of `sweep` for a module path).
 */
export function localExecutor(options: LocalExecutorOptions = {}): Executor {
  checkOptions('localExecutor', options, ['execArgv', 'env', 'onSpawn']);
  const { execArgv = process.execArgv, env = process.env, onSpawn } = options;
  return {
    name: 'local',
    open: async (context) => {
      if (typeof context.trial !== 'string') {
        throw new TypeError('localExecutor: trial must be the path of a module exporting trial; a function runs in this process (inProcessExecutor)');
      }
      const module = path.resolve(context.trial);
      const children = new Set<ChildProcess>();
      return {
        run(spec) {
          mkdirSync(spec.dir, { recursive: true });
          const outputFile = path.join(spec.dir, 'output.log');
          const output = openSync(outputFile, 'a');
          const child = fork(CHILD, [], {
            execArgv: [...execArgv],
            env,
            serialization: 'advanced',
            stdio: ['ignore', output, output, 'ipc'],
          });
          closeSync(output);
          children.add(child);
          if (child.pid !== undefined) onSpawn?.(spec.trialId, child.pid);
          let outcome: RunnerOutcome | undefined;
          child.on('message', (m: { type: 'message'; message: TrialMessage } | { type: 'done'; outcome: RunnerOutcome }) => {
            if (m.type === 'message') context.onMessage(m.message);
            else outcome = m.outcome;
          });
          const done = new Promise<ExecutionOutcome>((resolve) => {
            child.on('error', () => {});
            child.on('exit', (code, signal) => {
              children.delete(child);
              if (outcome) return resolve({ status: 'finished', outcome });
              const how = signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
              const output = tail(outputFile);
              resolve({ status: 'lost', reason: `trial process ${String(child.pid)} ${how}`, retriable: true, ...(output ? { output } : {}) });
            });
          });
          child.send({ type: 'run', module, spec });
          return {
            stop: (order: StopOrder) => {
              if (child.connected) child.send({ type: 'stop', order });
            },
            done,
          };
        },
        close: async () => {
          const exits = [...children].map((child) => new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 2000).unref();
          }));
          await Promise.all(exits);
        },
      };
    },
  };
}

function tail(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    if (text === '') return '';
    return `\n${file} ends:\n${text.split('\n').slice(-8).join('\n')}`;
  } catch {
    return '';
  }
}
