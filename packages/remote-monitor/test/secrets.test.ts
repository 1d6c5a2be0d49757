import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, toArray } from 'rxjs';
import { warningOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { remoteMonitor } from '@rxfit/remote-monitor';
import { testServer } from './server.js';

const BOUND = { timeout: 20_000 };
const SECRETS = ['s3cr3t-pass', 'abc-token-123', 'Bearer t0k3n-xyz', 't0k3n-xyz'];
const epochs = [{ loss: 1 }, { loss: 0.5 }];

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}: ${text}`);
}

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a throw');
};

describe('remoteMonitor never prints a secret', () => {
  it('refuses a URL with credentials when created, saying to use a header, without printing the password', BOUND, () => {
    const message = messageOf(() => remoteMonitor({ url: 'http://user:s3cr3t-pass@127.0.0.1:9/x?token=abc-token-123' }));
    assert.match(message, /remoteMonitor: url must not hold credentials .*send them in a header instead, e\.g\. headers: \{ authorization:/);
    assert.match(message, /http:\/\/127\.0\.0\.1:9\/x/);
    assertNoSecret(message, 'the error');
  });

  it('does not quote header values, or a bad URL, in option errors', BOUND, () => {
    const headers = { authorization: 'Bearer t0k3n-xyz', 'x-retries': 3 as unknown as string };
    const message = messageOf(() => remoteMonitor({ url: 'http://127.0.0.1/', headers }));
    assert.match(message, /header 'x-retries' is a number/);
    assertNoSecret(message, 'the error');
    const bad = messageOf(() => remoteMonitor({ url: 'user:s3cr3t-pass@host/x?token=abc-token-123' }));
    assert.match(bad, /url must be an (absolute )?http/);
    assertNoSecret(bad, 'the error');
  });

  it('keeps the query and the headers out of warnings, so out of every log of the events', BOUND, async () => {
    const down = await testServer({ listening: false });
    const url = `http://127.0.0.1:${down.port}/x?token=abc-token-123`;
    const events: TrainingEvent[] = await lastValueFrom(
      scriptedRun(epochs).pipe(
        remoteMonitor({ url, headers: { authorization: 'Bearer t0k3n-xyz' }, retries: 0, backoffMs: 0 }),
        toArray(),
      ),
    );
    await down.close();
    const warnings = events.map(warningOf).filter((w) => w !== undefined);
    assert.ok(warnings.length >= 1);
    for (const w of warnings) {
      assert.match(w.message, new RegExp(`http://127\\.0\\.0\\.1:${down.port}/x[: ]`));
      assertNoSecret(w.message, 'a warning');
    }
    // What eventLog writes to disk, and what progressBar and pino print, is the events.
    assertNoSecret(JSON.stringify(events), 'the events');
  });

  it('scrubs secrets from an error the HTTP client quotes them in', BOUND, async () => {
    const leaky = ((input: URL, init: RequestInit) =>
      Promise.reject(new Error(`refused ${input.href} with ${JSON.stringify(init.headers)}`))) as unknown as typeof fetch;
    const events = await lastValueFrom(
      scriptedRun(epochs).pipe(
        remoteMonitor({ url: 'http://127.0.0.1:9/x?token=abc-token-123', headers: { authorization: 'Bearer t0k3n-xyz' }, retries: 0, fetch: leaky }),
        toArray(),
      ),
    );
    const warnings = events.map(warningOf).filter((w) => w !== undefined);
    assert.ok(warnings.length >= 1);
    for (const w of warnings) assertNoSecret(w.message, 'a warning');
  });
});
