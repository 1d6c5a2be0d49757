/**
 * The child process of the local executor: receives one trial from its parent over IPC, runs
 * it, reports its events and outcome back, and exits.
 */
import { loadTrial, runTrial } from './runner.js';
import type { StopOrder, TrialMessage, TrialSpec } from './types.js';

type ParentMessage = { type: 'run'; module: string; spec: TrialSpec } | { type: 'stop'; order: StopOrder };

let order: StopOrder | undefined;

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') {
    order ??= message.order;
    return;
  }
  void (async () => {
    let outcome;
    try {
      const trial = await loadTrial(message.module);
      outcome = await runTrial(trial, message.spec, {
        send: (m: TrialMessage) => void send({ type: 'message', message: m }),
        stopOrder: () => order,
      });
    } catch (error) {
      outcome = { reason: 'failed', epochs: 0, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    await send({ type: 'done', outcome });
    process.exit(0);
  })();
});
process.on('disconnect', () => process.exit(1));
