import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { pinoLogger } from '@rxfit/logger';
import { EventScript } from './events.js';

/** A pino logger writing to memory: the raw lines and their parsed records. */
function memoryLogger(level: string) {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 };

describe('pinoLogger', () => {
  it('logs every event as JSON with the runId binding, at the level of its kind', async () => {
    const { logger, lines, records } = memoryLogger('debug');
    const run$ = scriptedRun(
      [
        { loss: 0.9, val_loss: 1 },
        { loss: 0.5, val_loss: 0.8 },
      ],
      {
        batchesPerEpoch: 2,
        runId: 'run-42',
      },
    ).pipe(
      tap((event) => {
        const control = controlOf(event);
        if (event.type === 'epochEnd' && event.epoch === 0) {
          control?.warn('val_acc is not available', { by: 'earlyStopping' });
          control?.setLearningRate(0.0005, { by: 'ReduceLROnPlateau' });
          control?.checkpointSaved({
            path: 'ckpt/best',
            monitor: 'val_loss',
            value: 1,
          });
        }
        if (event.type === 'epochEnd' && event.epoch === 1)
          control?.stop('early stopping', { by: 'earlyStopping' });
      }),
      pinoLogger(logger),
    );
    const events = await lastValueFrom(run$.pipe(toArray()));
    const logged = records();
    assert.equal(logged.length, events.length, 'one record per event');
    for (const [i, record] of logged.entries()) {
      const event = events[i]!;
      assert.equal(record['runId'], 'run-42');
      assert.equal(record['type'], event.type);
      assert.equal(record['seq'], event.seq);
      assert.equal(record['eventTime'], event.time);
      assert.equal(typeof record['time'], 'number', "pino's timestamp");
      assert.equal(lines[i]!.match(/"time":/g)?.length, 1, 'no duplicate time key');
    }
    const levelOf = (type: string, index = 0) =>
      logged.filter((r) => r['type'] === type)[index]?.['level'];
    assert.equal(levelOf('trainBegin'), LEVEL.info);
    assert.equal(levelOf('epochBegin'), LEVEL.debug);
    assert.equal(levelOf('batchBegin'), LEVEL.debug);
    assert.equal(levelOf('batchEnd'), LEVEL.debug);
    assert.equal(levelOf('epochEnd'), LEVEL.info);
    assert.equal(levelOf('custom'), LEVEL.warn);
    assert.equal(levelOf('learningRateChanged'), LEVEL.info);
    assert.equal(levelOf('checkpointSaved'), LEVEL.info);
    assert.equal(levelOf('stopRequested'), LEVEL.info);
    assert.equal(levelOf('trainEnd'), LEVEL.info);

    const epochEnd = logged.find((r) => r['type'] === 'epochEnd')!;
    assert.deepEqual(epochEnd['logs'], { loss: 0.9, val_loss: 1, lr: 0.001 });
    assert.equal(epochEnd['msg'], 'Epoch 1/2 - loss: 0.9000 - val_loss: 1.0000 - lr: 0.0010');
    const warning = logged.find((r) => r['type'] === 'custom')!;
    assert.equal(warning['eventName'], 'warning');
    assert.deepEqual(warning['data'], {
      by: 'earlyStopping',
      message: 'val_acc is not available',
    });
    assert.equal(warning['msg'], 'Warning (earlyStopping): val_acc is not available');
    assert.equal(
      logged.find((r) => r['type'] === 'learningRateChanged')!['msg'],
      'Epoch 1: ReduceLROnPlateau setting learning rate to 0.0005.',
    );
    assert.equal(
      logged.find((r) => r['type'] === 'stopRequested')!['msg'],
      'Epoch 2: early stopping (earlyStopping)',
    );
    assert.equal(logged.at(-1)!['msg'], 'Training stopped after epoch 2');
  });

  it('logs a failed run at error, and leaves batch events out at level info', async () => {
    const { logger, records } = memoryLogger('info');
    const events = new EventScript('run-7')
      .trainBegin(0, { epochs: 3, stepsPerEpoch: 2 })
      .epoch(0, { start: 0, firstStep: 5, stepMs: 5, end: 20 }, 2, { loss: 1 })
      .add(30, {
        type: 'trainEnd',
        epoch: 1,
        reason: 'failed',
        error: 'loss is NaN at batch 3',
      }).events;
    await lastValueFrom(from(events).pipe(pinoLogger(logger)));
    const logged = records();
    assert.deepEqual(
      logged.map((r) => [r['type'], r['level']]),
      [
        ['trainBegin', LEVEL.info],
        ['epochEnd', LEVEL.info],
        ['trainEnd', LEVEL.error],
      ],
    );
    assert.equal(logged[2]!['error'], 'loss is NaN at batch 3');
    assert.equal(logged[2]!['msg'], 'Epoch 2: training failed: loss is NaN at batch 3');
  });

  it('logs replayed events at debug with replayed: true, or skips them', async () => {
    const replay = () =>
      new EventScript('old-run', true)
        .trainBegin(0, { epochs: 1, stepsPerEpoch: 1 })
        .epoch(0, { start: 0, firstStep: 5, stepMs: 5, end: 20 }, 1, {
          loss: 1,
        })
        .add(30, {
          type: 'custom',
          epoch: 0,
          name: 'warning',
          data: { by: 'x', message: 'old warning' },
        }).events;

    const debug = memoryLogger('debug');
    await lastValueFrom(from(replay()).pipe(pinoLogger(debug.logger)));
    const logged = debug.records();
    assert.equal(logged.length, replay().length);
    for (const record of logged) {
      assert.equal(record['level'], LEVEL.debug);
      assert.equal(record['replayed'], true);
      assert.equal(record['runId'], 'old-run');
    }

    const info = memoryLogger('info');
    await lastValueFrom(from(replay()).pipe(pinoLogger(info.logger)));
    assert.equal(info.lines.length, 0, 'hidden at the default level');

    const skip = memoryLogger('debug');
    await lastValueFrom(from(replay()).pipe(pinoLogger(skip.logger, { replayed: 'skip' })));
    assert.equal(skip.lines.length, 0);
  });

  it('binds each run to its own child logger', async () => {
    const { logger, records } = memoryLogger('info');
    const operator = pinoLogger(logger);
    await lastValueFrom(scriptedRun([{ loss: 1 }], { runId: 'a' }).pipe(operator));
    await lastValueFrom(scriptedRun([{ loss: 1 }], { runId: 'b' }).pipe(operator));
    assert.deepEqual([...new Set(records().map((r) => r['runId']))], ['a', 'b']);
  });

  it('rejects bad arguments, naming them', () => {
    assert.throws(
      () => pinoLogger({} as never),
      /pinoLogger: logger must be a pino logger, got object/,
    );
    assert.throws(
      () => pinoLogger(undefined, { replayed: 'info' as never }),
      /pinoLogger: replayed must be one of 'debug', 'skip', got "info"/,
    );
  });
});
