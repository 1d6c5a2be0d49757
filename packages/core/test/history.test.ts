import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom } from 'rxjs';
import { toHistory } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';

describe('toHistory', () => {
  it('keeps log keys named like Object.prototype members as plain keys', { timeout: 10_000 }, async () => {
    const logs = JSON.parse('{"loss": 1, "__proto__": 2, "constructor": 3, "toString": 4}') as Record<string, number>;
    const { history } = await lastValueFrom(scriptedRun([logs, logs]).pipe(toHistory()));
    assert.deepEqual(history['loss'], [1, 1]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(history, '__proto__')?.value, [2, 2]);
    assert.deepEqual(history['constructor'], [3, 3]);
    assert.deepEqual(history['toString'], [4, 4]);
    assert.equal(Object.getPrototypeOf(history), Object.prototype);
  });
});
