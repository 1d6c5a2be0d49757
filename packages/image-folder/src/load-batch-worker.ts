// Worker-thread entry: runs loadBatch for the pool in worker-pool.ts. Not exported.
import { parentPort } from 'node:worker_threads';
import { loadBatch, type BatchConfig } from './load-batch.js';
import type { TransformParams } from './random-transform.js';

interface Request {
  readonly id: number;
  readonly files: readonly string[];
  readonly params: readonly (TransformParams | null)[];
  readonly config: BatchConfig;
}

parentPort!.on('message', (req: Request) => {
  loadBatch(req.files, req.params, req.config).then(
    (res) => parentPort!.postMessage({ id: req.id, ...res }, [res.x.buffer as ArrayBuffer]),
    (err: unknown) =>
      parentPort!.postMessage({
        id: req.id,
        error: err instanceof Error ? err.message : String(err),
      }),
  );
});
