import { scan, last, type OperatorFunction } from 'rxjs';
import type { SweepEvent } from './events.js';
import type { Mode } from './pruner.js';
import type { Params } from './space.js';

/** One row of a sweep's leaderboard. */
export interface LeaderboardRow {
  readonly trialId: string;
  readonly index: number;
  readonly params: Params;
  readonly status: 'running' | 'completed' | 'stopped' | 'pruned' | 'failed';
  /** The best value of the sweep's metric, and its epoch (0-based). */
  readonly best?: number;
  readonly bestEpoch?: number;
  readonly epochs: number;
  readonly prunedAt?: { readonly epoch: number; readonly rung?: number; readonly milestone?: number };
  readonly attempts: number;
  readonly error?: string;
}

/** A sweep's leaderboard: best trial first. */
export interface Leaderboard {
  readonly metric: string;
  readonly mode: Mode;
  readonly rows: readonly LeaderboardRow[];
}

/** The board before `sweepBegin`. */
const EMPTY_BOARD: Leaderboard = { metric: '', mode: 'max', rows: [] };

/** Folds sweep events (live or read back with `readSweepLog`) into a {@link Leaderboard}. */
export function leaderboardOf(events: Iterable<SweepEvent>): Leaderboard {
  let board = EMPTY_BOARD;
  for (const event of events) board = reduceLeaderboard(board, event);
  return board;
}

/**
 * The leaderboard of a sweep once it ends: trials ranked by their best value of the metric.
 *
 * ## Example
 * ```ts
 * import { formatLeaderboard, toLeaderboard } from '@rxfit/sweep';
 * console.log(formatLeaderboard(await lastValueFrom(sweep(options).pipe(toLeaderboard()))));
 * ```
 * @returns An operator emitting one {@link Leaderboard} when the sweep completes.
 */
export function toLeaderboard(): OperatorFunction<SweepEvent, Leaderboard> {
  return (source) => source.pipe(scan(reduceLeaderboard, EMPTY_BOARD), last());
}

function reduceLeaderboard(board: Leaderboard, event: SweepEvent): Leaderboard {
  const update = (trialId: string, change: (row: LeaderboardRow) => LeaderboardRow): Leaderboard => ({
    ...board,
    rows: board.rows.map((row) => (row.trialId === trialId ? change(row) : row)),
  });
  switch (event.type) {
    case 'sweepBegin':
      return { ...board, metric: event.params.metric, mode: event.params.mode };
    case 'trialStarted': {
      const exists = board.rows.some((r) => r.trialId === event.trialId);
      if (exists) return update(event.trialId, (row) => ({ ...row, attempts: Math.max(row.attempts, event.attempt) }));
      const row: LeaderboardRow = { trialId: event.trialId, index: event.index, params: event.params, status: 'running', epochs: 0, attempts: event.attempt };
      return { ...board, rows: [...board.rows, row] };
    }
    case 'trialCompleted':
    case 'trialFailed': {
      const r = event.result;
      return sorted({
        ...update(event.trialId, (row) => ({
          ...row,
          status: event.type === 'trialFailed' ? 'failed' : r.reason,
          epochs: r.epochs,
          ...(r.best === undefined ? {} : { best: r.best, bestEpoch: r.bestEpoch ?? 0 }),
          ...(r.prunedAt ? { prunedAt: r.prunedAt } : {}),
          ...(event.type === 'trialFailed' ? { error: event.error, attempts: event.attempts } : {}),
        })),
      });
    }
    default:
      return board;
  }
}

function sorted(board: Leaderboard): Leaderboard {
  const sign = board.mode === 'max' ? -1 : 1;
  const rows = [...board.rows].sort((a, b) => {
    if (a.best === undefined || Number.isNaN(a.best)) return 1;
    if (b.best === undefined || Number.isNaN(b.best)) return -1;
    return sign * (a.best - b.best) || a.index - b.index;
  });
  return { ...board, rows };
}

/**
 * The leaderboard as a text table: trial, params, best metric, epochs run, pruned at.
 *
 * @param board - What {@link toLeaderboard} emitted.
 * @returns The table, one line per trial, best first.
 */
export function formatLeaderboard(board: Leaderboard): string {
  const header = ['#', 'trial', 'params', `best ${board.metric}`, 'epochs run', 'pruned at', 'status'];
  const cells = board.rows.map((row, rank) => [
    String(rank + 1),
    row.trialId,
    Object.entries(row.params).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v)}`).join(' '),
    row.best === undefined ? '-' : `${row.best.toFixed(4)} (epoch ${String((row.bestEpoch ?? 0) + 1)})`,
    String(row.epochs),
    row.prunedAt ? `epoch ${String(row.prunedAt.epoch + 1)}${row.prunedAt.rung === undefined ? '' : `, rung ${String(row.prunedAt.rung)}`}` : '-',
    row.status + (row.status === 'failed' && row.attempts > 1 ? ` after ${String(row.attempts)} attempts` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}
