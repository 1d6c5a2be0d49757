import { runTrial } from './runner.js';
import type { Executor, ExecutionOutcome, StopOrder, TrialFunction } from './types.js';

/**
 * Runs trials in this process, interleaved on its event loop: no isolation, no start-up cost.
 * The executor `sweep` uses when `trial` is a function; use child processes (`localExecutor`,
 * a module path as `trial`) when a trial may crash.
 *
 * @returns The executor.
 */
export function inProcessExecutor(): Executor {
  return {
    name: 'in-process',
    open: async (context) => {
      if (typeof context.trial !== 'function') {
        throw new TypeError('inProcessExecutor: trial must be a function; a module path runs in child processes (localExecutor)');
      }
      const trial: TrialFunction = context.trial;
      return {
        run(spec) {
          let order: StopOrder | undefined;
          const done: Promise<ExecutionOutcome> = runTrial(trial, spec, {
            send: context.onMessage,
            stopOrder: () => order,
          }).then((outcome) => ({ status: 'finished', outcome }));
          return {
            stop: (o) => {
              order ??= o;
            },
            done,
          };
        },
        close: async () => {},
      };
    },
  };
}
