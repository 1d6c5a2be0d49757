import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { controlOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { progressBar } from '@rxfit/logger';
import { EventScript } from './events.js';

/** Collects what the operator writes. */
function capture(): {
  write: (text: string) => void;
  chunks: string[];
  readonly text: string;
} {
  const chunks: string[] = [];
  return {
    write: (text) => void chunks.push(text),
    chunks,
    get text() {
      return chunks.join('');
    },
  };
}

/** The two epochs of Keras' documentation example, with exact event times. */
function kerasExample(replayed = false): TrainingEvent[] {
  return new EventScript('run-1', replayed)
    .trainBegin(0, {
      epochs: 2,
      stepsPerEpoch: 250,
      metrics: ['loss', 'acc', 'val_loss', 'val_acc'],
    })
    .epoch(0, { start: 0, firstStep: 250, stepMs: 131, end: 250 + 249 * 131 }, 250, {
      loss: 0.6877,
      acc: 0.5511,
      val_loss: 0.6743,
      val_acc: 0.5724,
      lr: 0.001,
    })
    .epoch(
      1,
      {
        start: 40_000,
        firstStep: 40_100,
        stepMs: 100,
        end: 40_100 + 249 * 100 + 400,
      },
      250,
      {
        loss: 0.0005,
        acc: 1,
        val_loss: -2.5,
        val_acc: Number.NaN,
        lr: 0.0009048374180359595,
      },
    )
    .add(70_000, { type: 'trainEnd', epoch: 1, reason: 'completed' }).events;
}

const kerasExampleText =
  'Epoch 1/2\n' +
  '250/250 [==============================] - 33s 131ms/step - loss: 0.6877 - acc: 0.5511 - val_loss: 0.6743 - val_acc: 0.5724 - lr: 0.0010\n' +
  'Epoch 2/2\n' +
  '250/250 [==============================] - 25s 102ms/step - loss: 5.0000e-04 - acc: 1.0000 - val_loss: -2.5000 - val_acc: nan - lr: 9.0484e-04\n';

describe('progressBar off a TTY', () => {
  it("prints Keras' epoch header and exactly one line per epoch, durations from event times", async () => {
    const out = capture();
    const events = kerasExample();
    const seen = await lastValueFrom(
      from(events).pipe(progressBar({ write: out.write, isTTY: false }), toArray()),
    );
    assert.equal(out.text, kerasExampleText);
    // Events pass through unchanged: same objects, same order.
    assert.equal(seen.length, events.length);
    seen.forEach((event, i) => assert.equal(event, events[i]));
  });

  it('prints every decision of a live run on its own line, in order', async () => {
    const out = capture();
    const run$ = scriptedRun(
      [{ loss: 0.9, val_loss: 1 }, { loss: 0.5, val_loss: 0.8 }, { loss: 0.4 }, { loss: 0.3 }],
      {
        batchesPerEpoch: 3,
      },
    ).pipe(
      tap((event) => {
        const control = controlOf(event);
        if (!control) return;
        if (event.type === 'trainBegin') {
          control.emit('dataSource', {
            role: 'training',
            description: 'Found 8005 images belonging to 2 classes.',
          });
          control.emit('resumed', { epoch: 0, message: 'Resumed run r from the backup in b' });
          control.emit('other', { no: 'message' });
        }
        if (event.type === 'epochBegin' && event.epoch === 1)
          control.setLearningRate(0.0009048374180359595, {
            by: 'LearningRateScheduler',
          });
        if (event.type === 'epochEnd' && event.epoch === 0)
          control.checkpointSaved({
            path: 'ckpt/best',
            monitor: 'val_loss',
            value: 1,
          });
        if (event.type === 'epochEnd' && event.epoch === 1) {
          control.checkpointSaved({
            path: 'ckpt/best',
            monitor: 'val_loss',
            value: 0.8,
          });
          control.warn('Early stopping conditioned on metric `val_acc` which is not available.', {
            by: 'earlyStopping',
          });
        }
        if (event.type === 'batchEnd' && event.epoch === 2 && event.batch === 1)
          control.stop('early stopping', { by: 'earlyStopping' });
      }),
      progressBar({ write: out.write, isTTY: false }),
    );
    await lastValueFrom(run$);
    const lines = out.text.split('\n');
    assert.equal(lines.pop(), '', 'the output ends with a newline');
    const bar =
      /^ {0,2}\d\/3 \[[=>.]{30}\] - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4}( - val_loss: \d\.\d{4})? - lr: \d\.\d{4}(e-\d\d)?$/;
    const expected: (string | RegExp)[] = [
      'Found 8005 images belonging to 2 classes.',
      'Resumed run r from the backup in b',
      'Epoch 1/4',
      bar,
      'Epoch 1: val_loss is 1.00000, saving model to ckpt/best',
      // The header comes first: tf.keras puts its progress bar first in the callback list.
      'Epoch 2/4',
      'Epoch 2: LearningRateScheduler setting learning rate to 0.0009048374.',
      bar,
      'Epoch 2: val_loss improved from 1.00000 to 0.80000, saving model to ckpt/best',
      'Warning (earlyStopping): Early stopping conditioned on metric `val_acc` which is not available.',
      'Epoch 3/4',
      'Epoch 3, batch 2: early stopping (earlyStopping)',
      bar,
    ];
    assert.equal(lines.length, expected.length, out.text);
    expected.forEach((line, i) =>
      typeof line === 'string' ? assert.equal(lines[i], line) : assert.match(lines[i]!, line),
    );
    // The stopped epoch shows the steps really run (Keras would show 3/3).
    assert.match(lines[12]!, /^2\/3 \[={19}>\.{10}\]/);
    assert.ok(!out.text.includes('\r'), 'no carriage return off a TTY');
  });

  it('prints nothing for replayed events unless replay is on, then renders them as they ran', async () => {
    const silent = capture();
    await lastValueFrom(
      from(kerasExample(true)).pipe(progressBar({ write: silent.write, isTTY: true })),
    );
    assert.equal(silent.text, '');

    const replay = capture();
    await lastValueFrom(
      from(kerasExample(true)).pipe(
        progressBar({ write: replay.write, isTTY: true, replay: true }),
      ),
    );
    assert.equal(replay.text, kerasExampleText, 'a replay never draws the live bar, even on a TTY');
  });

  it('keeps state per subscription: one instance renders two runs alike', async () => {
    const out = capture();
    const operator = progressBar({ write: out.write, isTTY: false });
    await lastValueFrom(from(kerasExample()).pipe(operator));
    await lastValueFrom(from(kerasExample()).pipe(operator));
    assert.equal(out.text, kerasExampleText + kerasExampleText);
  });

  it('learns an unknown number of steps from the first epoch, as Keras', async () => {
    const out = capture();
    const events = new EventScript()
      .trainBegin(0, { epochs: 2 })
      .epoch(0, { start: 0, firstStep: 1000, stepMs: 500, end: 2000 }, 3, {
        loss: 2,
      })
      .epoch(1, { start: 3000, firstStep: 3100, stepMs: 100, end: 3300 }, 3, {
        loss: 1,
      }).events;
    await lastValueFrom(from(events).pipe(progressBar({ write: out.write, isTTY: false })));
    assert.equal(
      out.text,
      'Epoch 1/2\n3/3 [==============================] - 2s 500ms/step - loss: 2.0000\n' +
        'Epoch 2/2\n3/3 [==============================] - 0s 100ms/step - loss: 1.0000\n',
    );
  });

  it('names the device when the backend does (a webgpu adapter), and nothing for a plain backend', async () => {
    const run = async (backend: string) => {
      const out = capture();
      const events = new EventScript().trainBegin(0, { epochs: 1, backend }).epoch(0, { start: 0, firstStep: 10, stepMs: 10, end: 20 }, 1, { loss: 1 }).events;
      await lastValueFrom(from(events).pipe(progressBar({ write: out.write, isTTY: false })));
      return out.text.split('\n')[0];
    };
    assert.equal(await run('webgpu on google swiftshader (software)'), 'Training on webgpu on google swiftshader (software)');
    assert.match(await run('wasm') ?? '', /^1\/1 \[/);
  });

  it('prints a failed run and closes an open line', async () => {
    const out = capture();
    const events = new EventScript()
      .trainBegin(0, { epochs: 1, stepsPerEpoch: 4 })
      .add(0, { type: 'epochBegin', epoch: 0 })
      .add(10, {
        type: 'batchEnd',
        epoch: 0,
        batch: 0,
        logs: { loss: 1, size: 2 },
      })
      .add(20, {
        type: 'trainEnd',
        epoch: 0,
        reason: 'failed',
        error: 'NaN loss at batch 1',
      }).events;
    await lastValueFrom(
      from(events).pipe(progressBar({ write: out.write, isTTY: true, now: () => 0 })),
    );
    assert.equal(
      out.text,
      '\r1/4 [======>.......................] - ETA: 0s - loss: 1.0000\nEpoch 1: training failed: NaN loss at batch 1\n',
    );
  });
});

describe('progressBar on a TTY', () => {
  it('redraws the bar in place with \\r, at most every interval ms of the injected clock', async () => {
    const out = capture();
    let clock = 0;
    const run$ = scriptedRun([{ loss: 0.5 }, { loss: 0.25 }], {
      batchesPerEpoch: 10,
      batchLogs: (epoch, batch) => ({ loss: epoch === 0 ? batch : 1, size: 8 }),
    }).pipe(
      // A fake clock: 30 ms per batch.
      tap((event) => {
        if (event.type === 'batchEnd') clock = event.epoch * 1000 + event.batch * 30;
      }),
      progressBar({
        write: out.write,
        isTTY: true,
        now: () => clock,
        interval: 100,
      }),
    );
    await lastValueFrom(run$);
    const epochs = out.text.split(/Epoch \d\/2\n/).slice(1);
    assert.equal(epochs.length, 2);
    for (const epoch of epochs) {
      assert.ok(
        epoch.endsWith('\n') && epoch.indexOf('\n') === epoch.length - 1,
        'one newline, at the end of the epoch',
      );
      const draws = epoch.split('\r').slice(1);
      // Batches end at 0, 30, ..., 270 ms: drawn at 0, 120 and 240 ms (batches 1, 5, 9), then the final line.
      assert.equal(draws.length, 4, JSON.stringify(epoch));
      assert.match(draws[0]!, /^ 1\/10 \[==>\.{27}\] - ETA: \d+s - loss: /);
      assert.match(draws[1]!, /^ 5\/10 \[==============>\.{15}\] - ETA: /);
      assert.match(draws[2]!, /^ 9\/10 \[==========================>\.{3}\] - ETA: /);
      assert.match(
        draws[3]!,
        /^10\/10 \[={30}\] - \d+s \d+(us|ms|s)\/step - loss: 0\.\d{4} - lr: 0\.0010 *\n$/,
      );
    }
    // The live bar shows the running mean of the batch losses weighted by size: 0..4 → 2.
    assert.match(epochs[0]!.split('\r')[2]!, / - loss: 2\.0000 *$/);
  });

  it('pads a shorter redraw with spaces so no stale characters remain', async () => {
    const out = capture();
    const events = new EventScript()
      .trainBegin(0, { epochs: 1, stepsPerEpoch: 2 })
      .add(0, { type: 'epochBegin', epoch: 0 })
      .add(10, {
        type: 'batchEnd',
        epoch: 0,
        batch: 0,
        logs: { loss: 1234567, size: 1 },
      })
      .add(20, {
        type: 'batchEnd',
        epoch: 0,
        batch: 1,
        logs: { loss: 0, size: 1 },
      })
      .add(30, { type: 'epochEnd', epoch: 0, logs: { loss: 1 } }).events;
    let clock = 0;
    await lastValueFrom(
      from(events).pipe(
        tap(() => (clock += 1000)),
        progressBar({ write: out.write, isTTY: true, now: () => clock }),
      ),
    );
    const draws = out.text.split('\r').slice(1);
    assert.equal(draws.length, 3);
    assert.equal(draws[0], '1/2 [==============>...............] - ETA: 0s - loss: 1234567.0000');
    assert.equal(
      draws[1],
      '2/2 [==============================] - ETA: 0s - loss: 617283.5000 ',
      'covers the first draw',
    );
    const last = '2/2 [==============================] - 0s 20ms/step - loss: 1.0000';
    assert.equal(draws[2], last + ' '.repeat(draws[1].trimEnd().length - last.length) + '\n');
  });
});

describe('progressBar options', () => {
  it('rejects bad options, naming the option and the value', () => {
    assert.throws(() => progressBar({ interval: -1 }), /progressBar: interval must be .* got -1/);
    assert.throws(
      () => progressBar({ width: 0 }),
      /progressBar: width must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => progressBar({ write: 'stdout' as never }),
      /progressBar: write must be a function, got string/,
    );
    assert.throws(
      () => progressBar({ isTTY: 'yes' as never }),
      /progressBar: isTTY must be a boolean, got "yes"/,
    );
  });
});
