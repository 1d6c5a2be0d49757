import type { RunControl } from './control.js';

/** Ordered side effects of one operator in one run; see {@link effectQueue}. */
export interface EffectQueue {
  /**
   * Runs `work` after every piece queued before it. With a live run's control, the loop waits
   * for it before the next step (`defer`) and a failure fails the run, named after the operator;
   * without one (a replay), the failure rejects {@link EffectQueue.idle}. After a failure no
   * later work runs, so a later success cannot hide it.
   */
  run(control: RunControl | undefined, work: () => Promise<unknown>): void;
  /** Resolves once every queued piece settled; rejects with the first failure. */
  idle(): Promise<void>;
}

/**
 * The one way rxfit's operators write files and talk to the outside world: side effects in
 * event order, awaited by the loop where they must finish before the weights change again
 * (checkpoints, backups), and one clear failure path that names the operator. Make one queue per
 * subscription (per run).
 *
 * ## Example
 * ```ts
 * import { controlOf } from '@rxfit/core';
 * import { effectQueue } from '@rxfit/core/operator-kit';
 * defer(() => {
 *   const effects = effectQueue('myWriter');
 *   return source.pipe(tap((e) => { if (e.type === 'epochEnd') effects.run(controlOf(e, 'myWriter'), () => write(e)); }));
 * });
 * ```
 * @param owner - The operator, named in errors (`myWriter: disk full`).
 * @returns A queue with state for one run.
 */
export function effectQueue(owner: string): EffectQueue {
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const named = (cause: unknown): Error => {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    return error.message.startsWith(owner) ? error : new Error(`${owner}: ${error.message}`, { cause: error });
  };
  return {
    run(control, work) {
      const next = chain.then(async () => {
        if (failure) throw failure;
        try {
          await work();
        } catch (cause) {
          failure = named(cause);
          throw failure;
        }
      });
      chain = next.catch(() => undefined);
      if (control) control.defer(next);
      else void next.catch(() => undefined);
    },
    async idle() {
      await chain;
      if (failure) throw failure;
    },
  };
}
