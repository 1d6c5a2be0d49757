import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { pino } from 'pino';
import { scriptedRun } from '@rxfit/core/testing';
import { pinoLogger, progressBar } from '@rxfit/logger';

/** Logs whose keys are Object.prototype's members, as a JSON log or a custom metric can give them. */
const logs = () => JSON.parse('{"loss": 0.5, "__proto__": 1.5, "constructor": 2.5, "toString": 3.5}') as Record<string, number>;

describe('loggers with log keys named like Object.prototype members', () => {
  for (const isTTY of [false, true]) {
    it(`progressBar prints them as plain keys (isTTY: ${isTTY})`, { timeout: 10_000 }, async () => {
      const chunks: string[] = [];
      let now = 0;
      await lastValueFrom(
        scriptedRun([logs(), logs()], { batchesPerEpoch: 3, batchLogs: () => ({ ...logs(), size: 1 }) }).pipe(
          progressBar({ write: (text) => void chunks.push(text), isTTY, now: () => (now += 1000) }),
          toArray(),
        ),
      );
      const text = chunks.join('');
      for (const part of ['loss: 0.5000', '__proto__: 1.5000', 'constructor: 2.5000', 'toString: 3.5000']) {
        assert.ok(text.includes(part), `${part} in ${JSON.stringify(text)}`);
      }
    });
  }

  it('pinoLogger logs them', { timeout: 10_000 }, async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    await lastValueFrom(scriptedRun([logs()], { batchesPerEpoch: 2, batchLogs: () => logs() }).pipe(pinoLogger(logger), toArray()));
    assert.ok(lines.some((line) => line.includes('"constructor":2.5')), lines.join(''));
  });
});
