/**
 * `node --conditions=@rxfit/source --import tsx examples/sweep/src/main.ts`:
 * sweeps Adam's learning rate and the dense layer's width of the main example's CNN on a small
 * MNIST budget, two trials at a time in child processes, pruned by ASHA; prints a leaderboard and
 * writes a plot. Run it again with the same --out to resume an interrupted sweep.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { exportMnist } from '@rxfit/example-mnist-folders/export-mnist';
import { asha, choice, formatLeaderboard, gridSampler, leaderboardOf, sweep, type SweepEvent } from '@rxfit/sweep';
import { plotSweep } from './plot.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/sweep' },
    'per-digit': { type: 'string', default: '40' },
    epochs: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '2' },
  },
});
const epochs = Number(values.epochs);
const perDigit = Number(values['per-digit']);
const out = path.resolve(values.out);

// A small budget: `perDigit` digits of each class (80% to train), exported once as PNG folders.
const data = await exportMnist(path.resolve(`data/mnist-${String(perDigit)}`), 0.8, perDigit);
process.env['RXFIT_SWEEP_DATA'] = data.root;
process.env['RXFIT_SWEEP_EPOCHS'] = String(epochs);
process.stdout.write(`${String(data.trainCount)} training and ${String(data.testCount)} test digits in ${data.root}\n`);

const trial = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './trial.ts' : './trial.js', import.meta.url));
const events: SweepEvent[] = await lastValueFrom(
  sweep({
    space: { lr: choice([1e-4, 1e-3, 1e-2, 1e-1]), units: choice([16, 64]) },
    trial,
    sampler: gridSampler({ seed: 1 }),
    pruner: asha({ gracePeriod: 1, maxT: epochs, reductionFactor: 2 }),
    metric: 'val_acc',
    maxTrials: 8,
    concurrency: Number(values.concurrency),
    dir: out,
  }).pipe(
    tap((e) => {
      if (e.type === 'trialStarted') process.stdout.write(`start  ${e.trialId} ${JSON.stringify(e.params)}\n`);
      if (e.type === 'trialPruned') process.stdout.write(`prune  ${e.trialId} ${e.reason}\n`);
      if (e.type === 'trialRetried') process.stdout.write(`retry  ${e.trialId} ${e.reason}\n`);
      if (e.type === 'trialFailed') process.stdout.write(`failed ${e.trialId} ${e.error}\n`);
      if (e.type === 'trialCompleted') process.stdout.write(`done   ${e.trialId} ${e.result.reason} after ${String(e.result.epochs)} epochs\n`);
    }),
    toArray(),
  ),
);
const board = leaderboardOf(events);
process.stdout.write(`\n${formatLeaderboard(board)}`);
const best = board.rows[0];
if (best) process.stdout.write(`\nBest learning rate: ${String(best.params['lr'])} (units ${String(best.params['units'])}), val_acc ${best.best?.toFixed(4) ?? '-'}\n`);
const files = await plotSweep(events, 'val_acc', path.join(out, 'sweep'));
process.stdout.write(`Plot: ${files.join(', ')}\nSweep log: ${path.join(out, 'sweep.jsonl')}; trial logs: ${path.join(out, 'trials')}/<trial>/events.jsonl\n`);
