import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SweepEvent } from '@rxfit/sweep';

/** Runs `f` with a fresh temporary folder, removed afterwards. */
export async function withDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rxfit-sweep-'));
  try {
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The events of one type, typed as such. */
export const of = <T extends SweepEvent['type']>(events: SweepEvent[], type: T) =>
  events.filter((e): e is Extract<SweepEvent, { type: T }> => e.type === type);
