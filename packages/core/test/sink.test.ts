import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, Observable, tap, toArray } from 'rxjs';
import { controlOf, fit, warningOf, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { sink, type SinkHandlers } from '../src/sink.js';
import { tinyData, tinyModel } from './helpers.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const losses = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ loss: 10 - i, val_loss: 11 - i }));

/** A record of what handlers saw: each event's seq and whether it came with a control. */
function recorder(delayMs = 0, held?: Promise<void>) {
  const seen: { seq: number; type: string; live: boolean; replayed: boolean }[] = [];
  let flushes = 0;
  const handlers: SinkHandlers = {
    onEvent: async (event, control) => {
      if (delayMs > 0) await sleep(delayMs);
      if (held) await held;
      seen.push({
        seq: event.seq,
        type: event.type,
        live: control !== undefined,
        replayed: event.replayed === true,
      });
    },
    flush: () => {
      flushes++;
    },
  };
  return { seen, handlers, flushes: () => flushes };
}

/** A promise that handlers wait on, opened by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Polls until `ready()` (the run advances on its own timers and promises). */
async function until(ready: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!ready()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await sleep(1);
  }
}

describe('sink', () => {
  it('passes every event through synchronously, unchanged, same object', async () => {
    const { handlers } = recorder(5);
    const before: TrainingEvent[] = [];
    const after: TrainingEvent[] = [];
    let inFlight: TrainingEvent | undefined;
    await lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 2 }).pipe(
        tap((e) => {
          before.push(e);
          inFlight = e;
        }),
        sink(handlers, { name: 'rec', mode: 'lossless' }),
        tap((e) => {
          assert.equal(e, inFlight, 'the event arrives downstream within the same emission');
          after.push(e);
        }),
        toArray(),
      ),
    );
    assert.equal(after.length, before.length);
    after.forEach((e, i) => assert.equal(e, before[i]));
  });

  it('lossless: every event in order, type handler before onEvent, flush after trainEnd, before completion', async () => {
    const calls: string[] = [];
    const handlers: SinkHandlers = {
      onEpochEnd: async (e) => {
        await sleep(3);
        calls.push(`epochEnd:${e.epoch}`);
      },
      onEvent: (e) => {
        calls.push(`${e.type}#${e.seq}`);
      },
      flush: async () => {
        await sleep(3);
        calls.push('flush');
      },
    };
    const events = await lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 3 }).pipe(
        sink(handlers, { name: 'order', mode: 'lossless' }),
        toArray(),
      ),
    );
    const expected: string[] = [];
    for (const e of events) {
      if (e.type === 'epochEnd') expected.push(`epochEnd:${e.epoch}`);
      expected.push(`${e.type}#${e.seq}`);
    }
    expected.push('flush');
    assert.deepEqual(
      calls,
      expected,
      'the run completes only after every handler and flush finished',
    );
  });

  it('lossless: the loop does not wait for handlers while the sink keeps within its bound', async () => {
    const held = gate();
    const { seen, handlers } = recorder(0, held.opened);
    const passed: TrainingEvent[] = [];
    const done = lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 4 }).pipe(
        sink(handlers, { name: 'held', mode: 'lossless', bound: 1000 }),
        tap((e) => passed.push(e)),
        toArray(),
      ),
    );
    await until(() => passed.at(-1)?.type === 'trainEnd');
    assert.equal(seen.length, 0, 'the whole run went through while the first handler was held');
    await sleep(20);
    assert.equal(
      await Promise.race([done.then(() => 'completed'), sleep(0).then(() => 'waiting')]),
      'waiting',
      'trainEnd waits for the handlers',
    );
    held.open();
    await done;
    assert.deepEqual(
      seen.map((s) => s.seq),
      passed.map((e) => e.seq),
      'every event, in order',
    );
  });

  it('lossless: backpressure holds the loop when more than `bound` events wait', async () => {
    const bound = 3;
    const held = gate();
    const { seen, handlers } = recorder(0, held.opened);
    let passed = 0;
    const done = lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 6 }).pipe(
        sink(handlers, { name: 'slow', mode: 'lossless', bound }),
        tap(() => passed++),
        toArray(),
      ),
    );
    // One event in the handler, `bound + 1` queued: the loop waits before the next step.
    await until(() => passed >= bound + 2);
    await sleep(30);
    assert.equal(passed, bound + 2, 'the loop holds while the queue exceeds the bound');
    held.open();
    const events = await done;
    assert.deepEqual(
      seen.map((s) => s.seq),
      events.map((e) => e.seq),
      'nothing lost, in order',
    );
  });

  it('lossless: with slow handlers the run goes at the handlers pace, never more than bound behind', async () => {
    const bound = 3;
    const { seen, handlers } = recorder(2);
    const lag: number[] = [];
    let passed = 0;
    await lastValueFrom(
      scriptedRun(losses(2), { batchesPerEpoch: 5 }).pipe(
        sink(handlers, { name: 'slow', mode: 'lossless', bound }),
        tap(() => lag.push(++passed - seen.length)),
      ),
    );
    assert.equal(seen.length, passed);
    // passed - handled = queued + the one in flight; the event that crossed the bound passes before the loop waits.
    assert.ok(Math.max(...lag) <= bound + 2, `lag ${Math.max(...lag)} exceeds bound ${bound} + 2`);
  });

  it('latest: drops intermediate batch events, keeps every other event, never holds a step', async () => {
    const held = gate();
    const { seen, handlers } = recorder(0, held.opened);
    const passed: TrainingEvent[] = [];
    const done = lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 10 }).pipe(
        sink(handlers, { name: 'ui', mode: 'latest' }),
        tap((e) => passed.push(e)),
        toArray(),
      ),
    );
    await until(() => passed.at(-1)?.type === 'trainEnd');
    assert.equal(seen.length, 0, 'no step waited for the held handler');
    await sleep(20);
    assert.equal(
      await Promise.race([done.then(() => 'completed'), sleep(0).then(() => 'waiting')]),
      'waiting',
      'trainEnd waits for the pending handlers',
    );
    held.open();
    const events = await done;
    const isBatch = (type: string) => type === 'batchBegin' || type === 'batchEnd';
    assert.deepEqual(
      seen.filter((s) => !isBatch(s.type)).map((s) => s.seq),
      events.filter((e) => !isBatch(e.type)).map((e) => e.seq),
      'no epoch-level event is dropped',
    );
    const last = events.filter((e) => e.type === 'batchBegin' || e.type === 'batchEnd').slice(-2);
    assert.deepEqual(
      seen.filter((s) => isBatch(s.type)).map((s) => s.seq),
      last.map((e) => e.seq),
      'only the newest pending batchBegin and batchEnd are kept',
    );
    const seqs = seen.map((s) => s.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in order',
    );
  });
  it('a handler error fails the run with the sink name, at the next step', async () => {
    const handled: number[] = [];
    const run$ = scriptedRun(losses(5), { batchesPerEpoch: 2 }).pipe(
      sink(
        {
          onEpochEnd: async (e) => {
            handled.push(e.epoch);
            await sleep(1);
            if (e.epoch === 1) throw new Error('disk full');
          },
        },
        { name: 'writer', mode: 'lossless' },
      ),
      toArray(),
    );
    await assert.rejects(lastValueFrom(run$), (error: Error) => {
      assert.match(
        error.message,
        /^Training failed at epoch \d+(, batch \d+)?: sink 'writer': onEpochEnd failed on epochEnd at epoch 1 \(seq \d+\): disk full$/,
      );
      // The loop's TrainingError wraps the sink's error, which keeps the handler's as its cause.
      const sinkError = error.cause as Error;
      assert.match(sinkError.message, /^sink 'writer': onEpochEnd failed/);
      assert.equal((sinkError.cause as Error).message, 'disk full');
      return true;
    });
    assert.deepEqual(handled, [0, 1], 'no handler runs after the failure');
  });

  it('a synchronous throw in a latest sink fails the run too', async () => {
    const run$ = scriptedRun(losses(3), { batchesPerEpoch: 4 }).pipe(
      sink(
        {
          onBatchEnd: () => {
            throw new TypeError('bad');
          },
        },
        { name: 'ui', mode: 'latest' },
      ),
    );
    await assert.rejects(
      lastValueFrom(run$),
      /sink 'ui': onBatchEnd failed on batchEnd at epoch 0, batch 0 \(seq \d+\): bad/,
    );
  });

  it('a real fit run fails with a TrainingError naming the sink, and emits trainEnd failed', async () => {
    await tf.setBackend('cpu');
    const model = tinyModel();
    const data = tinyData(16);
    const events: TrainingEvent[] = [];
    let handledDuringRun = 0;
    let trainEndSeen = false;
    const run$ = fit(model, data, { epochs: 4, batchSize: 4 }).pipe(
      sink(
        {
          onBatchEnd: async () => {
            await sleep(1);
            if (!trainEndSeen) handledDuringRun++;
          },
          onEpochEnd: (e) => {
            if (e.epoch === 1) throw new Error('no space left');
          },
        },
        { name: 'db', mode: 'lossless' },
      ),
      tap((e) => {
        events.push(e);
        if (e.type === 'trainEnd') trainEndSeen = true;
      }),
    );
    await assert.rejects(lastValueFrom(run$), (error: Error) => {
      assert.equal(error.name, 'TrainingError');
      assert.match(
        error.message,
        /sink 'db': onEpochEnd failed on epochEnd at epoch 1 .*: no space left/,
      );
      return true;
    });
    const end = events.at(-1)!;
    assert.equal(end.type === 'trainEnd' && end.reason, 'failed');
    assert.ok(handledDuringRun > 0, 'a handler waiting on a timer progresses while fit trains');
    assert.ok(
      !events.some((e) => e.type === 'epochEnd' && e.epoch >= 3),
      'the run stopped at the failure',
    );
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('bestEffort: an error becomes a warning event by the sink, and the run completes', async () => {
    const handled: string[] = [];
    const events = await lastValueFrom(
      scriptedRun(losses(3)).pipe(
        sink(
          {
            onEvent: (e) => {
              handled.push(e.type === 'custom' ? `custom:${e.name}` : e.type);
              if (e.type === 'epochEnd' && e.epoch === 0)
                throw new Error('503 Service Unavailable');
            },
          },
          { name: 'chat', mode: 'latest', bestEffort: true },
        ),
        toArray(),
      ),
    );
    const warnings = events.map(warningOf).filter((w) => w !== undefined);
    assert.deepEqual(warnings, [
      {
        by: 'chat',
        message:
          "sink 'chat': onEvent failed on epochEnd at epoch 0 (seq 4): 503 Service Unavailable",
      },
    ]);
    assert.equal(events.at(-1)!.type === 'trainEnd' && events.at(-1)!.type, 'trainEnd');
    assert.ok(!handled.includes('custom:warning'), 'a sink does not receive its own warnings');
    assert.equal(
      handled.filter((t) => t === 'epochEnd').length,
      3,
      'the sink goes on after the error',
    );
  });

  it('replayed events reach the handlers marked replayed, without control; completion waits for them', async () => {
    const live = await lastValueFrom(
      scriptedRun(losses(3), { batchesPerEpoch: 2 }).pipe(toArray()),
    );
    const replayed = live.map((e) => Object.freeze({ ...e, replayed: true as const }));
    const { seen, handlers, flushes } = recorder(2);
    const out = await lastValueFrom(
      from(replayed).pipe(sink(handlers, { name: 'rec', mode: 'latest' }), toArray()),
    );
    assert.equal(out.length, replayed.length);
    const batchEvents = replayed.filter(
      (e) => e.type === 'batchBegin' || e.type === 'batchEnd',
    ).length;
    assert.ok(
      seen.length <= replayed.length - batchEvents + 2,
      'a replay arrives at once: latest keeps the newest batch events',
    );
    assert.deepEqual(seen.filter((s) => s.type === 'epochEnd').length, 3);
    assert.ok(seen.every((s) => s.replayed && !s.live));
    assert.equal(flushes(), 1);
  });

  it('a replayed log without trainEnd (a crash) is flushed when the stream ends; errors fail the stream', async () => {
    const live = await lastValueFrom(scriptedRun(losses(3)).pipe(toArray()));
    const crashed = live
      .filter((e) => e.type !== 'trainEnd')
      .map((e) => Object.freeze({ ...e, replayed: true as const }));
    const { handlers, flushes } = recorder(1);
    await lastValueFrom(
      from(crashed).pipe(sink(handlers, { name: 'rec', mode: 'lossless' }), toArray()),
    );
    assert.equal(flushes(), 1);

    const failing = from(crashed).pipe(
      sink(
        { flush: () => Promise.reject(new Error('close failed')), onEpochEnd: () => undefined },
        { name: 'f', mode: 'lossless' },
      ),
    );
    await assert.rejects(lastValueFrom(failing), {
      message: "sink 'f': flush failed: close failed",
    });
  });

  it('what the end of a run causes comes before trainEnd, so one flush after trainEnd sees it all', async () => {
    const calls: string[] = [];
    await lastValueFrom(
      scriptedRun(losses(1)).pipe(
        sink(
          {
            onTrainEnd: () => {
              calls.push('trainEnd');
            },
            onCustom: (e) => {
              calls.push(`custom:${e.name}`);
            },
            flush: () => {
              calls.push('flush');
            },
          },
          { name: 'late', mode: 'lossless' },
        ),
        tap((e) => {
          // An operator after the sink reports what the end causes (as a restore of best weights does).
          if (e.type === 'trainEnding') controlOf(e)?.emit('restored', { epoch: 0 });
        }),
      ),
    );
    assert.deepEqual(calls, ['custom:restored', 'trainEnd', 'flush']);
  });

  it('refuses an event after trainEnd: the run fails instead of ending with a hidden tail', async () => {
    await assert.rejects(
      lastValueFrom(
        scriptedRun(losses(1)).pipe(
          tap((e) => {
            if (e.type === 'trainEnd') controlOf(e)?.emit('late', {});
          }),
        ),
      ),
      /has ended \(trainEnd was emitted\): a custom event cannot follow it; act at trainEnding/,
    );
  });

  it('bestEffort on a replay: the error goes to process.emitWarning, the replay goes on', async () => {
    const live = await lastValueFrom(scriptedRun(losses(2)).pipe(toArray()));
    const replayed = live.map((e) => Object.freeze({ ...e, replayed: true as const }));
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const epochs: number[] = [];
    const out = await lastValueFrom(
      from(replayed).pipe(
        sink(
          {
            onEpochEnd: (e) => {
              epochs.push(e.epoch);
              if (e.epoch === 0) throw new Error('cannot re-project');
            },
          },
          { name: 'report', mode: 'lossless', bestEffort: true },
        ),
        toArray(),
      ),
    );
    const warning = await warned;
    assert.equal(warning.name, 'RxfitSinkWarning');
    assert.match(
      warning.message,
      /^sink 'report': onEpochEnd failed on epochEnd at epoch 0 \(seq \d+, replayed\): cannot re-project$/,
    );
    assert.deepEqual(epochs, [0, 1]);
    assert.equal(out.length, replayed.length);
  });

  it('a handlers function makes state per subscription: one operator serves two runs', async () => {
    let made = 0;
    const operator = sink(
      () => {
        made++;
        let best = Infinity;
        const bests: number[] = [];
        return {
          onEpochEnd: (e) => {
            best = Math.min(best, e.logs['loss']!);
            bests.push(best);
          },
          flush: () => {
            results.push(bests);
          },
        };
      },
      { name: 'best', mode: 'lossless' },
    );
    const results: number[][] = [];
    await Promise.all([
      lastValueFrom(
        scriptedRun([{ loss: 3 }, { loss: 1 }, { loss: 2 }], { runId: 'a' }).pipe(operator),
      ),
      lastValueFrom(scriptedRun([{ loss: 5 }, { loss: 6 }], { runId: 'b' }).pipe(operator)),
    ]);
    assert.equal(made, 2);
    assert.deepEqual(
      results.sort((x, y) => x.length - y.length),
      [
        [5, 5],
        [3, 1, 1],
      ],
    );
  });

  it('stops calling handlers when the consumer unsubscribes', async () => {
    const { seen, handlers } = recorder(5);
    const run$ = scriptedRun(losses(50), { batchesPerEpoch: 5 }).pipe(
      sink(handlers, { name: 'rec', mode: 'lossless' }),
    );
    let atUnsubscribe = 0;
    await new Promise<void>((resolve) => {
      const subscription = run$.subscribe((e) => {
        if (e.type === 'epochEnd' && e.epoch === 1) {
          atUnsubscribe = seen.length;
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    await sleep(30);
    const after = seen.length - atUnsubscribe;
    assert.ok(after <= 1, `at most the handler in flight finishes, got ${after} more`);
  });

  it('validates options and handlers when called, naming the sink, option and value', () => {
    const onEvent = () => undefined;
    assert.throws(
      () => sink({ onEvent }, { name: 'x', mode: 'fast' as 'latest' }),
      /sink 'x': mode must be one of 'lossless', 'latest', got "fast"/,
    );
    assert.throws(
      () => sink({ onEvent }, { name: '', mode: 'latest' }),
      /sink: name must be a non-empty string, got ""/,
    );
    assert.throws(
      () => sink({ onEvent }, { name: 'x', mode: 'latest', bound: 5 }),
      /bound applies to mode 'lossless' only/,
    );
    assert.throws(
      () => sink({ onEvent }, { name: 'x', mode: 'lossless', bound: 0 }),
      /sink 'x': bound must be an integer >= 1, got 0/,
    );
    assert.throws(
      () =>
        sink({ onEvent }, { name: 'x', mode: 'lossless', bestEffort: 'yes' as unknown as boolean }),
      /bestEffort must be a boolean/,
    );
    assert.throws(
      () => sink({ onEpochend: onEvent } as SinkHandlers, { name: 'x', mode: 'lossless' }),
      /sink 'x': unknown handler onEpochend; the handlers are onTrainBegin, .*onEpochEnd/,
    );
    assert.throws(
      () => sink({ onEvent: 3 } as unknown as SinkHandlers, { name: 'x', mode: 'lossless' }),
      /onEvent must be a function, got number/,
    );
    assert.throws(() => sink({}, { name: 'x', mode: 'lossless' }), /give at least one handler/);
  });

  it('a handlers function that returns bad handlers fails the run that subscribes', async () => {
    const operator = sink(() => ({ onEpochEnd: 'no' }) as unknown as SinkHandlers, {
      name: 'bad',
      mode: 'latest',
    });
    await assert.rejects(
      lastValueFrom(scriptedRun(losses(1)).pipe(operator)),
      /sink 'bad': onEpochEnd must be a function, got string/,
    );
  });

  it('a source that errors is forwarded after the handlers of its events finished', async () => {
    const { seen, handlers } = recorder(3);
    const source = new Observable<TrainingEvent>((subscriber) => {
      void lastValueFrom(scriptedRun(losses(1)).pipe(toArray())).then((events) => {
        for (const e of events) subscriber.next({ ...e, replayed: true });
        subscriber.error(new Error('boom'));
      });
    });
    await assert.rejects(
      lastValueFrom(source.pipe(sink(handlers, { name: 'rec', mode: 'lossless' }))),
      { message: 'boom' },
    );
    assert.equal(seen.length, 7, 'every event was handled before the error went on');
    assert.equal(seen.at(-1)!.type, 'trainEnd');
  });
});
