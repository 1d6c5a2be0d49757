import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { scriptedRun } from '@rxfit/core/testing';
import { eventLog, listRuns, readEventLog } from '@rxfit/event-log';
import { tempDir } from './helpers.js';

const losses = [{ loss: 3 }, { loss: 2 }, { loss: 1 }];

async function logOf(runIds: string[]): Promise<string> {
  const path = join(await tempDir(), 'events.jsonl');
  for (const runId of runIds) await lastValueFrom(scriptedRun(losses, { runId }).pipe(eventLog(path), toArray()));
  return path;
}

describe('readEventLog', () => {
  it('drops a torn last line with a warning and replays the rest', async () => {
    const path = await logOf(['a']);
    const complete = await lastValueFrom(readEventLog(path).pipe(toArray()));
    await appendFile(path, '{"runId":"a","seq":14,"time":17');
    const warnings: string[] = [];
    const events = await lastValueFrom(readEventLog(path, { onWarning: (m) => warnings.push(m) }).pipe(toArray()));
    assert.deepEqual(events, complete);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /torn last line 17/);
    assert.ok(warnings[0]!.includes(path));
  });

  it('warns through process.emitWarning by default', async () => {
    const path = await logOf(['a']);
    await appendFile(path, '{"runId":"a"');
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    await lastValueFrom(readEventLog(path).pipe(toArray()));
    const warning = await warned;
    assert.equal(warning.name, 'RxfitEventLogWarning');
    assert.match(warning.message, /torn last line/);
  });

  it('fails on a bad middle line, naming the file and the line number', async () => {
    const path = await logOf(['a']);
    const text = (await readFile(path, 'utf8')).split('\n');
    text[5] = text[5]!.slice(0, 20);
    await writeFile(path, text.join('\n'));
    await assert.rejects(lastValueFrom(readEventLog(path).pipe(toArray())), (error: Error) => {
      assert.ok(error.message.includes(`${path} line 6: invalid JSON`), error.message);
      return true;
    });
  });

  it('fails on a line that is JSON but not an event, and on a seq that goes back', async () => {
    const path = await logOf(['a']);
    const text = (await readFile(path, 'utf8')).split('\n');
    await writeFile(path, [...text.slice(0, 3), '{"runId":"a","seq":"x","time":1,"type":"custom"}', ...text.slice(3)].join('\n'));
    await assert.rejects(lastValueFrom(readEventLog(path)), /line 4: not an event: seq is not an integer/);
    await writeFile(path, [...text.slice(0, 4), text[2], ...text.slice(4)].join('\n'));
    await assert.rejects(lastValueFrom(readEventLog(path)), /line 5: seq 1 does not follow seq 2 of run a/);
  });

  it('refuses a file without the header or with an unknown version', async () => {
    const dir = await tempDir();
    const plain = join(dir, 'plain.jsonl');
    await writeFile(plain, '{"runId":"a","seq":0,"time":1,"type":"custom"}\n');
    await assert.rejects(lastValueFrom(readEventLog(plain)), /line 1: not an rxfit event log/);
    const future = join(dir, 'future.jsonl');
    await writeFile(future, '{"schema":"rxfit.events","version":2}\n');
    await assert.rejects(lastValueFrom(readEventLog(future)), /line 1: format version 2 is not supported/);
    await assert.rejects(lastValueFrom(readEventLog(join(dir, 'missing.jsonl'))), /cannot read .*missing\.jsonl/);
  });

  it('keeps appended runs apart by runId and lists them', async () => {
    const path = await logOf(['first', 'second']);
    const second = await lastValueFrom(readEventLog(path, { runId: 'second' }).pipe(toArray()));
    assert.ok(second.length > 0 && second.every((e) => e.runId === 'second'));
    assert.deepEqual(
      second.map((e) => e.seq),
      second.map((_, i) => i),
    );
    const runs = await listRuns(path);
    assert.deepEqual(
      runs.map(({ runId, firstSeq, lastSeq, events, epochs, starts, endReason }) => ({
        runId,
        firstSeq,
        lastSeq,
        events,
        epochs,
        starts,
        endReason,
      })),
      [
        { runId: 'first', firstSeq: 0, lastSeq: 14, events: 15, epochs: [0, 1, 2], starts: 1, endReason: 'completed' },
        { runId: 'second', firstSeq: 0, lastSeq: 14, events: 15, epochs: [0, 1, 2], starts: 1, endReason: 'completed' },
      ],
    );
  });

  it('validates its options at call time', () => {
    assert.throws(() => readEventLog(''), /readEventLog: path must be a non-empty string/);
    assert.throws(() => readEventLog('x', { runId: 3 as unknown as string }), /readEventLog: runId must be a string, got 3/);
  });
});
