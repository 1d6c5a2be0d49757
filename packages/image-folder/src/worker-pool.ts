import { Worker } from 'node:worker_threads';
import type { BatchConfig, LoadedBatch } from './load-batch.js';
import type { TransformParams } from './random-transform.js';

/**
 * Worker threads that run `loadBatch`, so decoding bookkeeping, resizing and the per-pixel
 * augmentation never hold the main thread (where the training step runs). Idle workers are
 * unreferenced: they do not keep the process alive.
 *
 * ## Example
 * ```ts
 * import { createWorkerPool } from '@rxfit/image-folder';
 * const pool = createWorkerPool(2);
 * const batch = await pool.run(['/data/cats/cat.1.jpg'], [null], { height: 64, width: 64, colorMode: 'rgb',
 *   interpolation: 'nearest', keepAspectRatio: false, fastResize: false, fillMode: 'nearest', cval: 0, rescale: 1 / 255,
 *   limitInputPixels: 25_000_000, maxBatchPixels: 25_000_000, concurrency: 4 });
 * await pool.close();
 * ```
 */
export interface WorkerPool {
  run(
    files: readonly string[],
    params: readonly (TransformParams | null)[],
    config: BatchConfig,
  ): Promise<LoadedBatch>;
  close(): Promise<void>;
}

/**
 * Built, the worker is `load-batch-worker.js`. Run from source (tests, the `@rxfit/source`
 * condition), it is a `.ts` file, and Node 20 does not apply the parent's `--import tsx` hooks
 * inside workers: the worker then registers tsx itself before importing the entry.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./load-batch-worker.js', import.meta.url));
  const entry = new URL('./load-batch-worker.ts', import.meta.url).href;
  let tsx: string | undefined;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    tsx = undefined; // no tsx: rely on the runtime's own TypeScript support
  }
  if (tsx === undefined) return new Worker(new URL(entry));
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

interface Slot {
  readonly worker: Worker;
  /** Jobs sent to this worker and not yet answered: while > 0, the worker is referenced. */
  pending: number;
  /** Set once the worker is being (or has been) stopped: it then stays referenced until 'exit'. */
  stopping: boolean;
}

interface Job {
  readonly resolve: (b: LoadedBatch) => void;
  readonly reject: (e: Error) => void;
  readonly slot: Slot;
  readonly files: readonly string[];
}

/** Names a batch in an error: its first files, so that a failure can be traced to the data. */
function describeBatch(files: readonly string[]): string {
  const shown = files.slice(0, 3).map((f) => JSON.stringify(f));
  const more = files.length > shown.length ? `, … (${files.length - shown.length} more)` : '';
  return `the batch of ${files.length} image${files.length === 1 ? '' : 's'} [${shown.join(', ')}${more}]`;
}

/**
 * Starts up to `size` workers, lazily, as batches are requested; each request carries its own
 * {@link BatchConfig}, so one pool can serve several datasets.
 *
 * A worker is referenced (keeps the process alive) while it has jobs in flight and while it is
 * being stopped, and unreferenced only when idle: a promise returned by `run` or `close` is always
 * backed by an active handle, so the event loop cannot empty under it. A worker that crashes or
 * exits rejects its pending jobs with an error naming their files, and is replaced on the next
 * request.
 *
 * ## Example
 * ```ts
 * import { createWorkerPool } from '@rxfit/image-folder';
 * const pool = createWorkerPool(1);
 * ```
 *
 * @param size - number of worker threads (≥ 1)
 * @returns the pool
 */
export function createWorkerPool(size: number): WorkerPool {
  const slots: Slot[] = [];
  const waiting = new Map<number, Job>();
  let nextId = 0;
  let closed = false;

  // Rejects every job the worker still owes and drops it from the pool (a later request starts a
  // fresh one). Without this, a job whose worker died would wait on a handle that no longer
  // exists: nothing would settle it, and the process would exit under the awaiting caller.
  const fail = (slot: Slot, why: string, cause?: unknown): void => {
    slot.stopping = true;
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    for (const [id, job] of waiting) {
      if (job.slot !== slot) continue;
      waiting.delete(id);
      slot.pending--;
      const message = closed
        ? 'imageFolder: the worker pool was closed'
        : `imageFolder: the image worker ${why} while loading ${describeBatch(job.files)}`;
      job.reject(cause === undefined ? new Error(message) : new Error(message, { cause }));
    }
  };

  const spawn = (): Slot => {
    const worker = startWorker();
    const slot: Slot = { worker, pending: 0, stopping: false };
    worker.unref(); // `run` references it as soon as it has a job (it gets one right away)
    worker.on('message', (msg: LoadedBatch & { id: number; error?: string }) => {
      const job = waiting.get(msg.id);
      if (!job) return;
      waiting.delete(msg.id);
      // A stopping worker stays referenced: `terminate()` resolves only on 'exit', and an
      // unreferenced worker would let the loop empty before that arrives (a slow thread stop on
      // a loaded machine).
      if (--slot.pending === 0 && !slot.stopping) worker.unref();
      if (msg.error !== undefined) job.reject(new Error(msg.error));
      else job.resolve({ x: msg.x, kept: msg.kept, failures: msg.failures });
    });
    // An uncaught exception in the worker: 'error', then 'exit'. The pending jobs fail at once,
    // with the worker's error as the cause.
    worker.on('error', (err: unknown) =>
      fail(slot, `crashed (${err instanceof Error ? err.message : String(err)})`, err),
    );
    worker.on('exit', (code) => fail(slot, `exited (code ${code})`));
    return slot;
  };

  return {
    run(files, params, config) {
      if (closed) return Promise.reject(new Error('imageFolder: the worker pool is closed'));
      let chosen = slots.find((s) => s.pending === 0);
      if (!chosen && slots.length < size) {
        chosen = spawn();
        slots.push(chosen);
      }
      chosen ??= slots.reduce((a, b) => (b.pending < a.pending ? b : a));
      const id = nextId++;
      const target = chosen;
      return new Promise<LoadedBatch>((resolve, reject) => {
        waiting.set(id, { resolve, reject, slot: target, files });
        // Referenced from the moment it has work (also while it is still starting up): the
        // caller awaits this promise, and nothing else may be keeping the process alive.
        if (target.pending++ === 0) target.worker.ref();
        target.worker.postMessage({ id, files, params, config });
      });
    },
    async close() {
      closed = true;
      const all = slots.splice(0);
      await Promise.all(
        all.map((s) => {
          // `terminate()` resolves on the worker's 'exit'. An idle worker is unreferenced, so
          // without this the event loop could empty (and the process exit under the awaiting
          // caller) while the thread is still stopping, as it does on a loaded machine.
          s.stopping = true;
          s.worker.ref();
          return s.worker.terminate();
        }),
      );
      // 'exit' has rejected the jobs of every terminated worker; this catches any left over.
      for (const [id, job] of waiting) {
        waiting.delete(id);
        job.reject(new Error('imageFolder: the worker pool was closed'));
      }
    },
  };
}
