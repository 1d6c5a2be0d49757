import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { earlyStopping, type EarlyStoppingOptions } from '@rxfit/early-stopping';
import { listRuns, readEventLog, whatIf } from '@rxfit/event-log';

// Usage: main.ts [events.jsonl] [runId]  (default: the sample log, its last run)
const path = process.argv[2] ?? fileURLToPath(new URL('../sample/events.jsonl', import.meta.url));
const runs = await listRuns(path);
const run = process.argv[3] ? runs.find((r) => r.runId === process.argv[3]) : runs.at(-1);
if (!run)
  throw new Error(
    `no run ${process.argv[3] ?? ''} in ${path}; it holds ${runs.map((r) => r.runId).join(', ')}`,
  );
console.log(
  `run ${run.runId}: epochs ${run.epochs[0]}-${run.epochs.at(-1)} logged, ${run.endReason ?? 'no trainEnd (crashed?)'}`,
);

// The same logged epochs, replayed as a live run through each early-stopping policy.
const policies: EarlyStoppingOptions[] = [
  { monitor: 'val_loss', patience: 0 },
  { monitor: 'val_loss', patience: 3 },
  { monitor: 'val_loss', patience: 3, minDelta: 0.005 },
  { monitor: 'val_loss', patience: 10 },
  { monitor: 'val_acc', patience: 5 },
];
for (const options of policies) {
  const { stoppedAt, stop } = await lastValueFrom(
    whatIf(readEventLog(path, { runId: run.runId }), earlyStopping(options)),
  );
  const policy = `earlyStopping(${JSON.stringify(options)})`;
  console.log(
    stoppedAt === undefined
      ? `${policy} -> would not stop within the logged epochs`
      : `${policy} -> stops at epoch ${stoppedAt}`,
  );
  if (stop) console.log(`    ${stop.by}: ${stop.reason}`);
}
