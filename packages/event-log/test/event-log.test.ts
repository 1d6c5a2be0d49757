import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, warningOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { eventLog, LOG_SCHEMA, LOG_VERSION, readEventLog } from '@rxfit/event-log';
import { tempDir } from './helpers.js';

const losses = [{ loss: 1 }, { loss: 0.5 }, { loss: Number.NaN }];

const lines = async (path: string): Promise<unknown[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('eventLog', () => {
  it('writes a schema header, then every event in seq order, and reads them back marked replayed', async () => {
    const path = join(await tempDir(), 'nested', 'events.jsonl');
    const live = await lastValueFrom(scriptedRun(losses, { batchesPerEpoch: 2 }).pipe(eventLog(path), toArray()));
    const file = await lines(path);
    assert.deepEqual(file[0], { schema: LOG_SCHEMA, version: LOG_VERSION });
    assert.equal(file.length, live.length + 1);
    assert.deepEqual(
      file.slice(1).map((e) => (e as TrainingEvent).seq),
      live.map((e) => e.seq),
    );

    const replayed = await lastValueFrom(readEventLog(path).pipe(toArray()));
    assert.equal(replayed.length, live.length);
    replayed.forEach((event, i) => {
      assert.equal(event.replayed, true);
      assert.ok(Object.isFrozen(event));
      assert.equal(controlOf(event), undefined);
      // Plain fields only: the live event also carries its run's control under a symbol key.
      assert.deepEqual({ ...event, replayed: undefined }, { ...Object.fromEntries(Object.entries(live[i]!)), replayed: undefined });
    });
    // A NaN loss survives the round trip (JSON alone would turn it into null).
    const last = replayed.find((e) => e.type === 'epochEnd' && e.epoch === 2);
    assert.ok(last?.type === 'epochEnd' && Number.isNaN(last.logs['loss']));
  });

  it('passes every event through unchanged, same object', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    const seen: TrainingEvent[] = [];
    const out = await lastValueFrom(
      scriptedRun(losses).pipe(tap((e) => seen.push(e)), eventLog(path), toArray()),
    );
    assert.equal(out.length, seen.length);
    out.forEach((e, i) => assert.equal(e, seen[i]));
  });

  it('flushes at every epochEnd: the file holds the epoch when the next step starts', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    const atEpochEnd: number[][] = [];
    const atBatch: number[] = [];
    await lastValueFrom(
      scriptedRun([{ loss: 3 }, { loss: 2 }, { loss: 1 }], { batchesPerEpoch: 3 }).pipe(
        eventLog(path),
        tap((e) => {
          // Operators after eventLog see the event once it is on disk.
          if (e.type === 'epochEnd') {
            controlOf(e)?.defer(
              lines(path).then((file) => {
                atEpochEnd.push(file.slice(1).map((x) => (x as TrainingEvent).seq));
              }),
            );
          }
          if (e.type === 'batchEnd' && e.batch === 1) {
            controlOf(e)?.defer(lines(path).then((file) => void atBatch.push(file.length)));
          }
        }),
        toArray(),
      ),
    );
    // trainBegin, then per epoch: epochBegin + 3×(batchBegin, batchEnd) + epochEnd = 8 events.
    assert.deepEqual(atEpochEnd, [
      Array.from({ length: 9 }, (_, i) => i),
      Array.from({ length: 17 }, (_, i) => i),
      Array.from({ length: 25 }, (_, i) => i),
    ]);
    // Mid-epoch the batch events are still buffered: only header, trainBegin and epochBegin are on disk.
    assert.deepEqual(atBatch, [3, 11, 19]);
  });

  it('does not append replayed events again', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    await lastValueFrom(scriptedRun(losses).pipe(eventLog(path), toArray()));
    const before = await readFile(path, 'utf8');
    const replayed = await lastValueFrom(readEventLog(path).pipe(toArray()));
    await lastValueFrom(from(replayed).pipe(eventLog(path), toArray()));
    assert.equal(await readFile(path, 'utf8'), before);
  });

  it('appends a second run to the same file under one header', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    await lastValueFrom(scriptedRun(losses, { runId: 'a' }).pipe(eventLog(path), toArray()));
    await lastValueFrom(scriptedRun(losses, { runId: 'b' }).pipe(eventLog(path), toArray()));
    const file = await lines(path);
    assert.equal(file.filter((l) => (l as { schema?: string }).schema === LOG_SCHEMA).length, 1);
    assert.deepEqual([...new Set(file.slice(1).map((l) => (l as TrainingEvent).runId))], ['a', 'b']);
  });

  it('cuts a torn last line before appending and warns through the run', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    await lastValueFrom(scriptedRun(losses, { runId: 'a' }).pipe(eventLog(path), toArray()));
    await appendFile(path, '{"runId":"a","seq":99,"ti');
    const events = await lastValueFrom(scriptedRun(losses, { runId: 'b' }).pipe(eventLog(path), toArray()));
    const warning = events.map(warningOf).find((w) => w !== undefined);
    assert.equal(warning?.by, 'eventLog');
    assert.match(warning?.message ?? '', /torn last line/);
    const replayed = await lastValueFrom(readEventLog(path).pipe(toArray()));
    assert.ok(replayed.every((e) => e.seq !== 99));
    assert.equal(replayed.filter((e) => e.runId === 'b').length, events.length);
  });

  it('refuses to append to a file that is not an rxfit log, naming it', async () => {
    const path = join(await tempDir(), 'notes.txt');
    await writeFile(path, 'hello\n');
    await assert.rejects(
      lastValueFrom(scriptedRun(losses).pipe(eventLog(path), toArray())),
      (error: Error) => error.message.includes(path) && error.message.includes('not an rxfit event log'),
    );
  });

  it('writes early, without waiting for the epoch end, once maxBufferBytes are buffered', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    const atBatch: number[] = [];
    await lastValueFrom(
      scriptedRun([{ loss: 3 }], { batchesPerEpoch: 3 }).pipe(
        eventLog(path, { maxBufferBytes: 1 }),
        tap((e) => {
          if (e.type === 'batchEnd') controlOf(e)?.defer(lines(path).then((file) => void atBatch.push(file.length)));
        }),
      ),
    );
    // header + trainBegin + epochBegin, then two lines per batch.
    assert.deepEqual(atBatch, [5, 7, 9]);
  });

  it('fails the run, naming the file, when a write fails', async () => {
    const path = join(await tempDir(), 'events.jsonl');
    let writes = 0;
    const io = {
      write: (fd: number, data: Uint8Array) => {
        if (++writes > 2) throw new Error('ENOSPC: no space left on device');
        writeSync(fd, data);
      },
      sync: () => undefined,
    };
    await assert.rejects(
      lastValueFrom(scriptedRun(losses).pipe(eventLog(path, { io }))),
      (error: Error) => error.message.includes(`eventLog: cannot write ${path}: ENOSPC`),
    );
  });

  it('validates its options', () => {
    assert.throws(() => eventLog(''), /eventLog: path must be a non-empty string/);
    assert.throws(() => eventLog('x', { maxBufferBytes: 0 }), /eventLog: maxBufferBytes must be an integer >= 1, got 0/);
    assert.throws(() => eventLog('x', { fsync: 'yes' as unknown as boolean }), /eventLog: fsync must be a boolean/);
  });
});
