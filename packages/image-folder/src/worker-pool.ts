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
 *   limitInputPixels: 268402689, concurrency: 4 });
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
  pending: number;
}

/**
 * Starts up to `size` workers, lazily, as batches are requested; each request carries its own
 * {@link BatchConfig}, so one pool can serve several datasets.
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
  const waiting = new Map<
    number,
    { resolve: (b: LoadedBatch) => void; reject: (e: Error) => void; slot: Slot }
  >();
  let nextId = 0;
  let closed = false;

  const spawn = (): Slot => {
    const worker = startWorker();
    const slot: Slot = { worker, pending: 0 };
    worker.unref();
    worker.on('message', (msg: LoadedBatch & { id: number; error?: string }) => {
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (--slot.pending === 0) worker.unref();
      if (msg.error !== undefined) w.reject(new Error(msg.error));
      else w.resolve({ x: msg.x, kept: msg.kept, failures: msg.failures });
    });
    worker.on('error', (err) => {
      for (const [id, w] of waiting) {
        if (w.slot === slot) {
          waiting.delete(id);
          w.reject(err);
        }
      }
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
    });
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
        waiting.set(id, { resolve, reject, slot: target });
        if (target.pending++ === 0) target.worker.ref();
        target.worker.postMessage({ id, files, params, config });
      });
    },
    async close() {
      closed = true;
      const all = slots.splice(0);
      await Promise.all(all.map((s) => s.worker.terminate()));
      for (const [id, w] of waiting) {
        waiting.delete(id);
        w.reject(new Error('imageFolder: the worker pool was closed'));
      }
    },
  };
}
