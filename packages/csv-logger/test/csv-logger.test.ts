import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, from, lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { controlOf, fit, warningOf, type Logs, type TrainingEvent } from '@rxfit/core';
import { fileError } from '../src/csv-file.js';
import { scriptedRun } from '@rxfit/core/testing';
import { csvLogger, nodeFileSystem, type CsvFileSystem } from '@rxfit/csv-logger';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxfit-csv-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const fresh = (name = 'log.csv') => join(dir, `${n++}-${name}`);
const lines = (text: string) => text.split('\r\n').slice(0, -1);

async function collect(
  run$: Observable<TrainingEvent>,
): Promise<{ events: TrainingEvent[]; error: unknown }> {
  const events: TrainingEvent[] = [];
  try {
    await lastValueFrom(run$.pipe(tap((e) => events.push(e))));
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

const replay = (events: readonly TrainingEvent[]) =>
  events.map((e) => Object.freeze({ ...e, replayed: true as const }));

describe('csvLogger', () => {
  it('writes a header (epoch, then the keys sorted) and one row per epoch, Python-style', async () => {
    const path = fresh();
    await lastValueFrom(
      scriptedRun(
        [
          { val_loss: 0.6, loss: 0.5, acc: 0.75 },
          { val_loss: 0.55, loss: 0.25, acc: 1 },
        ],
        { learningRate: 0.001 },
      ).pipe(csvLogger(path)),
    );
    assert.equal(
      await readFile(path, 'utf8'),
      'epoch,acc,loss,lr,val_loss\r\n0,0.75,0.5,0.001,0.6\r\n1,1.0,0.25,0.001,0.55\r\n',
    );
  });

  it('fixes the columns at the first row: a key missing later is NA, a new key is dropped with one warning', async () => {
    const path = fresh();
    const { events } = await collect(
      scriptedRun([
        { loss: 1, val_loss: 2 },
        { loss: 0.5 },
        { loss: 0.25, extra: 3 },
        { loss: 0.125, extra: 4 },
      ]).pipe(csvLogger(path)),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch,loss,lr,val_loss',
      '0,1.0,0.001,2.0',
      '1,0.5,0.001,NA',
      '2,0.25,0.001,NA',
      '3,0.125,0.001,NA',
    ]);
    const warnings = events.flatMap((e) => (warningOf(e) ? [warningOf(e)!] : []));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.by, 'csvLogger');
    assert.match(
      warnings[0]?.message ?? '',
      /'extra' is not a column of '.*log\.csv' \(epoch,loss,lr,val_loss\); not written/,
    );
  });

  it('writes NaN as nan and infinities as inf / -inf, as Keras (Python) does', async () => {
    const path = fresh();
    await lastValueFrom(
      scriptedRun([
        { loss: Number.NaN, val_loss: Number.POSITIVE_INFINITY, d: Number.NEGATIVE_INFINITY },
      ]).pipe(csvLogger(path)),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch,d,loss,lr,val_loss',
      '0,-inf,nan,0.001,inf',
    ]);
  });

  it('uses the separator, and quotes a field that holds it', async () => {
    const path = fresh('log.tsv');
    await lastValueFrom(
      scriptedRun([{ loss: 1, 'a\tb': 2 }]).pipe(csvLogger(path, { separator: '\t' })),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch\t"a\tb"\tloss\tlr',
      '0\t2.0\t1.0\t0.001',
    ]);
    const semi = fresh();
    await lastValueFrom(scriptedRun([{ loss: 1 }]).pipe(csvLogger(semi, { separator: ';' })));
    assert.deepEqual(lines(await readFile(semi, 'utf8')), ['epoch;loss;lr', '0;1.0;0.001']);
  });

  it('without append, a new run replaces the file when it begins', async () => {
    const path = fresh();
    await writeFile(path, 'old content\r\n');
    await lastValueFrom(scriptedRun([{ loss: 1 }]).pipe(csvLogger(path)));
    assert.deepEqual(lines(await readFile(path, 'utf8')), ['epoch,loss,lr', '0,1.0,0.001']);
  });

  it('each row is on disk when the next epoch begins, in order', async () => {
    const path = fresh();
    const seen: number[] = [];
    await lastValueFrom(
      scriptedRun([{ loss: 3 }, { loss: 2 }, { loss: 1 }], { batchesPerEpoch: 2 }).pipe(
        csvLogger(path),
        tap((e) => {
          if (e.type === 'epochBegin' || e.type === 'trainEnd')
            seen.push(existsSync(path) ? lines(readFileSync(path, 'utf8')).length - 1 : -1);
        }),
      ),
    );
    // Data rows on disk: none at epoch 0 (no file yet: the first row replaces the earlier run's
    // file, so a run that fails before it leaves that file alone), then 1, 2, 3.
    assert.deepEqual(seen, [-1, 1, 2, 3]);
  });

  it('Keras test_CSVLogger: 1 epoch new, 1 appended, then 2 more with the same logger → 1 header, 4 rows', async () => {
    await tf.setBackend('cpu');
    const path = fresh('log.tsv');
    const sep = '\t';
    const makeModel = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 2, activation: 'relu', inputShape: [3] }),
          tf.layers.dense({ units: 1 }),
        ],
      });
      model.compile({ loss: 'meanSquaredError', optimizer: 'sgd', metrics: ['mse'] });
      return model;
    };
    const x = tf.randomUniform([10, 3], 0, 1, 'float32', 1337);
    const y = tf.randomUniform([10, 1], 0, 1, 'float32', 1338);
    const xv = tf.randomUniform([10, 3], 0, 1, 'float32', 1339);
    const yv = tf.randomUniform([10, 1], 0, 1, 'float32', 1340);
    const train = (model: tf.LayersModel, epochs: number, logger: ReturnType<typeof csvLogger>) =>
      lastValueFrom(
        fit(
          model,
          { xs: x, ys: y },
          { epochs, batchSize: 4, validationData: { xs: xv, ys: yv } },
        ).pipe(logger),
      );

    const first = makeModel();
    await train(first, 1, csvLogger(path, { separator: sep }));
    const header = lines(await readFile(path, 'utf8'))[0];
    assert.equal(header, ['epoch', 'loss', 'lr', 'mse', 'val_loss', 'val_mse'].join(sep));

    const second = makeModel();
    const appending = csvLogger(path, { separator: sep, append: true });
    await train(second, 1, appending);
    await train(second, 2, appending);

    const list = lines(await readFile(path, 'utf8'));
    assert.equal(list.length, 5);
    for (const line of list) assert.equal(line.split(sep).length - 1, 5, line);
    assert.equal(list.join(' ').match(/epoch/g)?.length, 1);
    assert.deepEqual(
      list.slice(1).map((line) => line.split(sep)[0]),
      ['0', '0', '0', '1'],
    );
    first.dispose();
    second.dispose();
    tf.dispose([x, y, xv, yv]);
  });

  it("append keeps an existing header's column order; an empty file gets a header", async () => {
    const path = fresh();
    await writeFile(path, 'epoch,loss,acc\r\n0,1.0,0.5\r\n');
    const { events } = await collect(
      scriptedRun([{ acc: 0.75, loss: 0.5 }]).pipe(csvLogger(path, { append: true })),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch,loss,acc',
      '0,1.0,0.5',
      '0,0.5,0.75',
    ]);
    assert.equal(
      events.filter((e) => warningOf(e)?.message.includes("'lr' is not a column")).length,
      1,
    );
    const empty = fresh();
    await writeFile(empty, '');
    await lastValueFrom(scriptedRun([{ loss: 1 }]).pipe(csvLogger(empty, { append: true })));
    assert.deepEqual(lines(await readFile(empty, 'utf8')), ['epoch,loss,lr', '0,1.0,0.001']);
    const missing = fresh();
    await lastValueFrom(scriptedRun([{ loss: 1 }]).pipe(csvLogger(missing, { append: true })));
    assert.deepEqual(lines(await readFile(missing, 'utf8')), ['epoch,loss,lr', '0,1.0,0.001']);
  });

  it('append after a file that lacks its last line end starts a new line', async () => {
    const path = fresh();
    await writeFile(path, 'epoch,loss,lr\n0,1.0,0.001');
    await lastValueFrom(scriptedRun([{ loss: 0.5 }]).pipe(csvLogger(path, { append: true })));
    assert.equal(await readFile(path, 'utf8'), 'epoch,loss,lr\n0,1.0,0.001\r\n0,0.5,0.001\r\n');
  });

  it('append after a crash mid-row cuts the torn row (fewer fields than the header) with a warning', async () => {
    const path = fresh();
    await writeFile(path, 'epoch,loss,lr\r\n0,1.0,0.001\r\n1,0.7');
    const events = await lastValueFrom(scriptedRun([{ loss: 0.5 }]).pipe(csvLogger(path, { append: true }), toArray()));
    assert.equal(await readFile(path, 'utf8'), 'epoch,loss,lr\r\n0,1.0,0.001\r\n0,0.5,0.001\r\n');
    const warning = events.map(warningOf).find((w) => w !== undefined);
    assert.match(warning?.message ?? '', /cut a torn last line from '.*log\.csv' \(5 characters/);
  });

  it('a run that fails before its first row leaves the earlier log as it was', async () => {
    const path = fresh();
    await writeFile(path, 'epoch,loss,lr\r\n0,1.0,0.001\r\n');
    const failAtStart = tap((e: TrainingEvent) => {
      if (e.type === 'trainBegin') controlOf(e)?.defer(Promise.reject(new Error('a typo somewhere')));
    });
    await assert.rejects(lastValueFrom(scriptedRun([{ loss: 0.5 }]).pipe(csvLogger(path), failAtStart)), /a typo somewhere/);
    assert.equal(await readFile(path, 'utf8'), 'epoch,loss,lr\r\n0,1.0,0.001\r\n');
  });

  it('replayed events write nothing', async () => {
    const path = fresh();
    const live = await lastValueFrom(scriptedRun([{ loss: 1 }, { loss: 0.5 }]).pipe(toArray()));
    const out = await lastValueFrom(from(replay(live)).pipe(csvLogger(path), toArray()));
    assert.equal(existsSync(path), false);
    assert.equal(out.length, live.length);
  });

  it('a resumed run continues after the replayed rows: stale rows of the interrupted epoch go, none is written twice', async () => {
    const path = fresh();
    const script: Logs[] = [{ loss: 1 }, { loss: 0.8 }, { loss: 0.7 }, { loss: 0.6 }];
    // The first attempt wrote rows 0-2, but crashed before epoch 2's end reached the event log.
    const firstAttempt = await lastValueFrom(
      scriptedRun(script.slice(0, 3), { runId: 'run-1' }).pipe(csvLogger(path), toArray()),
    );
    assert.equal(lines(await readFile(path, 'utf8')).length, 4);
    const cut = firstAttempt.findIndex((e) => e.type === 'epochBegin' && e.epoch === 2);
    const logged = replay(firstAttempt.slice(0, cut));
    // The resumed run reruns epoch 2 (with other numbers) and runs epoch 3. append is false: a resume
    // must not empty the file.
    const rerun: Logs[] = [{ loss: 1 }, { loss: 0.8 }, { loss: 0.65 }, { loss: 0.6 }];
    await lastValueFrom(
      concat(
        from(logged),
        scriptedRun(rerun, { runId: 'run-1', initialEpoch: 2, firstSeq: cut }),
      ).pipe(csvLogger(path)),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch,loss,lr',
      '0,1.0,0.001',
      '1,0.8,0.001',
      '2,0.65,0.001',
      '3,0.6,0.001',
    ]);
  });

  it('a resume restores replayed rows that never reached the file, after rows of earlier runs (append)', async () => {
    const path = fresh();
    await writeFile(path, 'epoch,loss,lr\r\n0,9.0,0.001\r\n');
    const events = await lastValueFrom(
      scriptedRun([{ loss: 1 }, { loss: 0.8 }], { runId: 'run-2' }).pipe(toArray()),
    );
    const cut = events.findIndex((e) => e.type === 'trainEnd');
    await lastValueFrom(
      concat(
        from(replay(events.slice(0, cut))),
        scriptedRun([{ loss: 1 }, { loss: 0.8 }, { loss: 0.5 }], {
          runId: 'run-2',
          initialEpoch: 2,
          firstSeq: cut,
        }),
      ).pipe(csvLogger(path, { append: true })),
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), [
      'epoch,loss,lr',
      '0,9.0,0.001',
      '0,1.0,0.001',
      '1,0.8,0.001',
      '2,0.5,0.001',
    ]);
  });

  it('one logger serves two runs, each with its own state', async () => {
    const a = fresh();
    const logger = csvLogger(a);
    await lastValueFrom(scriptedRun([{ loss: 1, acc: 0 }]).pipe(logger));
    await lastValueFrom(scriptedRun([{ loss: 2 }]).pipe(logger));
    assert.deepEqual(lines(await readFile(a, 'utf8')), ['epoch,loss,lr', '0,2.0,0.001']);
  });

  it('creates a missing folder when the run begins (issue 11, item 5)', { timeout: 10_000 }, async () => {
    const path = join(dir, 'no-such-dir', 'deeper', 'log.csv');
    await lastValueFrom(scriptedRun([{ loss: 1 }]).pipe(csvLogger(path)));
    assert.deepEqual(lines(await readFile(path, 'utf8')), ['epoch,loss,lr', '0,1.0,0.001']);
  });

  it('refuses a link, a FIFO or a folder at the path before the first epoch, and leaves the target alone', { timeout: 10_000 }, async () => {
    const target = fresh('someone-elses.txt');
    await writeFile(target, 'keep me');
    const link = fresh('link.csv');
    await symlink(target, link);
    const fifo = fresh('fifo.csv');
    execFileSync('mkfifo', [fifo]);
    const folder = fresh('folder.csv');
    await mkdir(folder);
    for (const [path, why] of [
      [link, /is a symbolic link/],
      [fifo, /exists and is not a regular file \(a special file\)/],
      [folder, /exists and is not a regular file \(a folder\)/],
    ] as const) {
      for (const append of [false, true]) {
        const { events, error } = await collect(scriptedRun([{ loss: 1 }]).pipe(csvLogger(path, { append })));
        assert.match(String(error), new RegExp(`csvLogger: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${why.source}`));
        assert.equal(events.some((e) => e.type === 'epochBegin'), false);
      }
    }
    assert.equal(await readFile(target, 'utf8'), 'keep me');
  });

  it('a parent that is a file fails a real run clearly (trainEnd failed)', async () => {
    const blocker = fresh('file');
    await writeFile(blocker, 'x');
    await tf.setBackend('cpu');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
    const xs = tf.ones([2, 1]);
    const { events, error } = await collect(
      fit(model, { xs, ys: xs }, { epochs: 1 }).pipe(csvLogger(join(blocker, 'log.csv'))),
    );
    assert.match(
      String(error),
      /Training failed at epoch 0: csvLogger: cannot create the folder .*file for .*file\/log\.csv: /,
    );
    const end = events.at(-1);
    assert.equal(end?.type === 'trainEnd' && end.reason, 'failed');
    tf.dispose(xs);
    model.dispose();
  });

  it(
    'a directory that is not writable fails naming the file',
    { skip: process.getuid?.() === 0 && 'root ignores permissions' },
    async () => {
      const locked = join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      const { error } = await collect(
        scriptedRun([{ loss: 1 }]).pipe(csvLogger(join(locked, 'log.csv'))),
      );
      assert.match(
        String(error),
        /csvLogger: cannot write '.*locked\/log\.csv': permission denied/,
      );
      await chmod(locked, 0o700);
    },
  );

  it('file errors name the file and say why in words, whoever runs the tests', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    assert.equal(
      fileError('/data/runs/log.csv', 'write', denied).message,
      "csvLogger: cannot write '/data/runs/log.csv': permission denied (is '/data/runs' writable?)",
    );
    const full = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    assert.match(fileError('/d/log.csv', 'write', full).message, /no space left on the device$/);
    assert.match(
      fileError('/d/log.csv', 'read', new Error('odd')).message,
      /cannot read '\/d\/log\.csv': odd$/,
    );
  });

  it('a failed write fails the run and leaves the rows written before it whole', async () => {
    const path = fresh();
    const failing: CsvFileSystem = {
      ...nodeFileSystem,
      // Epoch 0 replaces the file (header and row); epoch 1's append fails.
      async appendText(file) {
        throw new Error(`csvLogger: cannot write '${file}': no space left on the device`);
      },
    };
    const { events, error } = await collect(
      scriptedRun([{ loss: 1 }, { loss: 0.5 }, { loss: 0.25 }]).pipe(
        csvLogger(path, { fileSystem: failing }),
      ),
    );
    assert.match(String(error), /cannot write '.*log\.csv': no space left/);
    assert.equal(
      events.some((e) => e.type === 'epochBegin' && e.epoch === 2),
      false,
      'the run stops at the failure',
    );
    assert.deepEqual(lines(await readFile(path, 'utf8')), ['epoch,loss,lr', '0,1.0,0.001']);
  });

  it('validates its arguments when called', () => {
    assert.throws(() => csvLogger(''), /filename must be a non-empty path, got ""/);
    assert.throws(() => csvLogger(3 as unknown as string), /filename/);
    assert.throws(
      () => csvLogger('a.csv', { separator: ',,' }),
      /separator must be one character.*got ",,"/,
    );
    assert.throws(() => csvLogger('a.csv', { separator: '"' }), /separator/);
    assert.throws(() => csvLogger('a.csv', { separator: '\n' }), /separator/);
    assert.throws(
      () => csvLogger('a.csv', { append: 'yes' as unknown as boolean }),
      /append must be a boolean, got yes/,
    );
    assert.throws(
      () => csvLogger('a.csv', { fileSystem: {} as CsvFileSystem }),
      /fileSystem must implement readText, writeAtomically, appendText, checkWritable/,
    );
  });

  it('a kill -9 in the middle of writing never leaves a torn row', async () => {
    const path = fresh();
    const child = spawn(
      process.execPath,
      [
        '--conditions=@rxfit/source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'write-forever.ts'),
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // Wait until it has written a few versions, then kill it without warning.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('50')) resolve();
      });
      child.on('exit', () => reject(new Error('the writer exited early')));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const text = await readFile(path, 'utf8');
    assert.ok(text.endsWith('\r\n'), 'the file ends with a complete row');
    const rows = lines(text);
    assert.equal(rows[0], 'epoch,loss,lr');
    rows.slice(1).forEach((row, i) => assert.equal(row, `${i},${i}.5,0.001`));
    assert.ok(rows.length > 50);
    const leftovers = (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
    // A temporary file may survive a kill -9; it is never the log itself and is named as ours.
    for (const name of leftovers) assert.match(name, /^\..*log\.csv\.\d+\.[0-9a-f]{8}\.tmp$/);
  });
});
