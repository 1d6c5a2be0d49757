import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, warningOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { remoteMonitor } from '@rxfit/remote-monitor';
import { testServer, type TestServer } from './server.js';

const epochs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ loss: 1 / (i + 1), val_loss: 1.2 / (i + 1) }));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Plain data as it went over the wire. */
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
/**
 * The run's warnings: warning events, then those printed (no event may follow trainEnd, so a
 * failure found at the end is printed to stderr through process.emitWarning).
 */
async function warnings(events: readonly TrainingEvent[]) {
  await sleep(5); // process.emitWarning reports on a later tick
  const given = events.map(warningOf).filter((w) => w !== undefined);
  const asEvents = new Set(given.map((w) => `${w.by}: ${w.message}`));
  const onlyPrinted = printed.splice(0).filter((text) => !asEvents.has(text));
  return [...given, ...onlyPrinted.map((message) => ({ by: 'stderr', message }))];
}
const printed: string[] = [];
process.on('warning', (warning) => {
  if (warning.name === 'RxfitWarning') printed.push(warning.message);
});

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof testServer>): Promise<TestServer> {
  const s = await testServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  printed.length = 0;
});

describe('remoteMonitor', () => {
  it('POSTs each epochEnd as JSON, with the headers, in order', async () => {
    const s = await server();
    const events = await lastValueFrom(
      scriptedRun(epochs(3), { batchesPerEpoch: 2 }).pipe(
        remoteMonitor({ url: s.url, headers: { authorization: 'Bearer t0k3n' } }),
        toArray(),
      ),
    );
    const epochEnds = events.filter((e) => e.type === 'epochEnd');
    assert.deepEqual(
      s.received.map((r) => r.body),
      json(epochEnds),
      'the events themselves, delivered before the run completed',
    );
    for (const r of s.received) {
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/publish/epoch/end/');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['authorization'], 'Bearer t0k3n');
    }
    assert.deepEqual((await warnings(events)), []);
  });

  it('sends the chosen event types, and a Keras-shaped body when asked', async () => {
    const s = await server();
    await lastValueFrom(
      scriptedRun(epochs(2)).pipe(
        remoteMonitor({
          url: s.url,
          events: ['trainBegin', 'epochEnd', 'trainEnd'],
          mode: 'lossless',
          body: (e) => (e.type === 'epochEnd' ? { epoch: e.epoch, ...e.logs } : { event: e.type }),
        }),
      ),
    );
    assert.deepEqual(
      s.received.map((r) => r.body),
      [
        { event: 'trainBegin' },
        { epoch: 0, loss: 1, val_loss: 1.2, lr: 0.001 },
        { epoch: 1, loss: 0.5, val_loss: 0.6, lr: 0.001 },
        { event: 'trainEnd' },
      ],
    );
  });

  it('latest: the training steps never wait on a server that does not answer yet', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const s = await server({ respond: () => released.then(() => ({ status: 200 })) });
    const passed: TrainingEvent[] = [];
    const done = lastValueFrom(
      scriptedRun(epochs(3), { batchesPerEpoch: 10 }).pipe(
        remoteMonitor({ url: s.url, events: ['batchEnd', 'epochEnd'] }),
        tap((e) => passed.push(e)),
        toArray(),
      ),
    );
    while (passed.at(-1)?.type !== 'trainEnd') await sleep(2);
    assert.ok(s.received.length <= 1, 'the run reached trainEnd with the first request unanswered');
    release();
    const events = await done;
    const bodies = s.received.map((r) => r.body as TrainingEvent);
    assert.deepEqual(
      bodies.filter((b) => b.type === 'epochEnd').map((b) => b.epoch),
      [0, 1, 2],
      'epochEnd is never dropped',
    );
    const batchEnds = events.filter((e) => e.type === 'batchEnd').length;
    assert.ok(
      bodies.filter((b) => b.type === 'batchEnd').length < batchEnds / 2,
      'intermediate batchEnd events were dropped',
    );
    assert.deepEqual((await warnings(events)), []);
  });

  it('latest: a slow server delays only the end of the run, not its steps', async () => {
    // The server holds every answer until the last epoch has ended: had a step waited for an
    // answer, the run would never reach that epoch.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let answers = 0;
    const s = await server({
      respond: async () => {
        await released;
        answers++;
        return { status: 200 };
      },
    });
    let answersAtLastEpochEnd: number | undefined;
    const unblock = setTimeout(release, 10_000); // a monitor that did wait fails, not hangs
    await lastValueFrom(
      scriptedRun(epochs(4), { batchesPerEpoch: 3 }).pipe(
        remoteMonitor({ url: s.url }),
        tap((e) => {
          if (e.type === 'epochEnd' && e.epoch === 3) {
            answersAtLastEpochEnd = answers;
            release();
          }
        }),
      ),
    );
    clearTimeout(unblock);
    assert.equal(answersAtLastEpochEnd, 0, 'the four epochs ran before the server answered once');
    assert.equal(s.received.length, 4);
    assert.equal(answers, 4, 'trainEnd waited for the four posts');
  });

  it('a server that is down: one warning, the run completes, the dropped events are counted at the end', async () => {
    const s = await server({ listening: false });
    const events = await lastValueFrom(
      scriptedRun(epochs(4)).pipe(
        remoteMonitor({ url: s.url, retries: 2, backoffMs: 5 }),
        toArray(),
      ),
    );
    const end = events.find((e) => e.type === 'trainEnd');
    assert.equal(end?.type === 'trainEnd' && end.reason, 'completed');
    const w = (await warnings(events));
    assert.equal(w.length, 2, JSON.stringify(w));
    // An event while the run goes on, or printed when the failure is found after trainEnd.
    assert.ok(['remoteMonitor', 'stderr'].includes(w[0]!.by));
    assert.match(
      w[0]!.message,
      new RegExp(
        `sink 'remoteMonitor': onEpochEnd failed on epochEnd at epoch 0 .*: could not reach http://127\\.0\\.0\\.1:${s.port}/publish/epoch/end/: fetch failed: .*ECONNREFUSED.* \\(after 3 attempts; the event is dropped; further failures are not reported until it answers\\)$`,
      ),
    );
    assert.match(
      w[1]!.message,
      /flush failed: 4 event\(s\) could not be delivered to .* during the run and were dropped$/,
    );
  });

  it('lossless: nothing is lost when the server comes back during the run', async () => {
    const s = await server({ listening: false });
    let warned = false;
    const events = await lastValueFrom(
      scriptedRun(epochs(6), { batchesPerEpoch: 2 }).pipe(
        remoteMonitor({ url: s.url, mode: 'lossless', retries: 1, backoffMs: 5 }),
        tap((e) => {
          if (warningOf(e)) warned = true;
          // The server comes back after epoch 2, once the monitor found it down.
          if (e.type === 'epochEnd' && e.epoch === 2) {
            controlOf(e)?.defer(
              (async () => {
                while (!warned) await sleep(2);
                await s.listen();
              })(),
            );
          }
        }),
        toArray(),
      ),
    );
    assert.deepEqual(
      s.received.map((r) => (r.body as TrainingEvent).seq),
      events.filter((e) => e.type === 'epochEnd').map((e) => e.seq),
      'every epochEnd, once each, in order',
    );
    const w = (await warnings(events));
    assert.equal(w.length, 1, 'one warning for the outage');
    assert.match(w[0]!.message, /could not reach .*ECONNREFUSED.*event\(s\) kept to send again/);
  });

  it('lossless: a server that stays down is reported at the end, and the run still completes', async () => {
    const s = await server({ listening: false });
    const events = await lastValueFrom(
      scriptedRun(epochs(3)).pipe(
        remoteMonitor({ url: s.url, mode: 'lossless', retries: 0 }),
        toArray(),
      ),
    );
    const w = (await warnings(events));
    assert.equal(w.length, 2);
    assert.match(
      w[1]!.message,
      /flush failed: 3 event\(s\) could not be delivered to .* by the end of the run: fetch failed/,
    );
    const end = events.find((e) => e.type === 'trainEnd');
    assert.equal(end?.type === 'trainEnd' && end.reason, 'completed');
  });

  it('lossless: a slow server makes the loop wait only beyond the bound', async () => {
    const s = await server({ respond: () => ({ status: 200, delayMs: 40 }) });
    const lag: number[] = [];
    await lastValueFrom(
      scriptedRun(epochs(8)).pipe(
        remoteMonitor({ url: s.url, mode: 'lossless', bound: 2 }),
        tap((e) => {
          if (e.type === 'epochEnd') lag.push(e.epoch + 1 - s.received.length);
        }),
      ),
    );
    assert.equal(s.received.length, 8);
    // received counts requests that arrived (answered or not): at most bound queued + 1 in flight ahead.
    assert.ok(
      Math.max(...lag) <= 2 + 2,
      `epochEnd events ran ${Math.max(...lag)} ahead of the server`,
    );
    assert.ok(Math.max(...lag) >= 2, 'the run went ahead of the server up to the bound');
  });

  it('retries a 503 and a timeout with backoff; does not retry a 400', async () => {
    const s = await server({
      respond: (_r, i) =>
        i === 0 ? { status: 503 } : i === 1 ? { status: 200, delayMs: 300 } : { status: 200 },
    });
    const events = await lastValueFrom(
      scriptedRun(epochs(1)).pipe(
        remoteMonitor({ url: s.url, retries: 2, backoffMs: 1, timeoutMs: 100 }),
        toArray(),
      ),
    );
    assert.equal(s.received.length, 3, '503, timeout, then 200');
    assert.deepEqual((await warnings(events)), []);

    const bad = await server({ respond: () => ({ status: 400 }) });
    const failed = await lastValueFrom(
      scriptedRun(epochs(1)).pipe(
        remoteMonitor({ url: bad.url, retries: 3, backoffMs: 1 }),
        toArray(),
      ),
    );
    assert.equal(bad.received.length, 1, 'a 400 is not retried');
    assert.match(
      (await warnings(failed))[0]!.message,
      /could not reach .*: HTTP 400 Bad Request \(after 4 attempts/,
    );
  });

  it('a timeout is reported as such', async () => {
    const s = await server({ respond: () => ({ status: 200, delayMs: 500 }) });
    const events = await lastValueFrom(
      scriptedRun(epochs(1)).pipe(
        remoteMonitor({ url: s.url, retries: 0, timeoutMs: 50 }),
        toArray(),
      ),
    );
    assert.match((await warnings(events))[0]!.message, /could not reach .*: timed out \(after 1 attempts/);
  });

  it('does not send replayed events again', async () => {
    const s = await server();
    const live = await lastValueFrom(scriptedRun(epochs(2)).pipe(toArray()));
    await lastValueFrom(
      from(live.map((e) => Object.freeze({ ...e, replayed: true as const }))).pipe(
        remoteMonitor({ url: s.url }),
        toArray(),
      ),
    );
    assert.equal(s.received.length, 0);
  });

  it('validates options when called, naming the option and value', () => {
    assert.throws(
      () => remoteMonitor({ url: 'not a url' }),
      /remoteMonitor: url must be an absolute http\(s\) URL, got "not a url"/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'ftp://127.0.0.1/x' }),
      /url must be an http: or https: URL, got "ftp:\/\/127.0.0.1\/x"/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', events: [] }),
      /events must be a non-empty array/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', events: ['epochend' as 'epochEnd'] }),
      /remoteMonitor: events\[\] must be one of .*'epochEnd'.*, got "epochend"/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', timeoutMs: 0 }),
      /timeoutMs must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', retries: -1 }),
      /retries must be an integer >= 0, got -1/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', mode: 'all' as 'latest' }),
      /mode must be one of 'lossless', 'latest', got "all"/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', bound: 3 }),
      /bound applies to mode 'lossless' only/,
    );
    assert.throws(
      () => remoteMonitor({ url: 'http://127.0.0.1/', headers: { a: 1 as unknown as string } }),
      /headers must be an object of strings/,
    );
  });
});
