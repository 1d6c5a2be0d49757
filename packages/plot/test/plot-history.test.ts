import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { from, lastValueFrom, map, tap, toArray } from 'rxjs';
import { controlOf, toHistory, type TrainingEvent } from '@rxfit/core';
import { scriptedRun } from '@rxfit/core/testing';
import { historySpec, plotHistory, plottableMetrics } from '@rxfit/plot';

const script = [
  { loss: 0.69, acc: 0.52, val_loss: 0.68, val_acc: 0.55 },
  { loss: 0.52, acc: 0.74, val_loss: 0.55, val_acc: 0.71 },
  { loss: 0.41, acc: 0.82, val_loss: 0.5, val_acc: 0.76 },
];

/** The number of data points drawn in an SVG plot. */
function points(svg: string): number {
  return (svg.match(/aria-roledescription="point"/g) ?? []).length;
}

/** The `width`/`height` attributes of an SVG document. */
function svgSize(svg: string): { width: number; height: number } {
  const match = /<svg[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"/.exec(svg);
  assert.ok(match, 'an <svg> element with a size');
  return { width: Number(match[1]), height: Number(match[2]) };
}

describe('plotHistory', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rxfit-plot-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes SVG and PNG curves at every epoch end, atomically, in epoch order', async () => {
    const file = join(dir, 'live', 'history');
    const snapshots: string[] = [];
    const renderMs: number[] = [];
    let epochEndedAt = 0;
    const events = await lastValueFrom(
      scriptedRun(script, { batchesPerEpoch: 2 }).pipe(
        plotHistory({ file, metrics: ['loss', 'acc'] }),
        tap((event) => {
          // The loop waits for the deferred render before the next step: the time from an
          // epoch end to the next event is the render time.
          if (event.type === 'epochEnd') epochEndedAt = performance.now();
        }),
        tap((event) => {
          if (event.type === 'epochBegin' && event.epoch > 0) {
            renderMs.push(performance.now() - epochEndedAt);
            // Deferred, so the read completes before the next epoch renders again.
            controlOf(event)?.defer(
              readFile(`${file}.svg`, 'utf8').then((svg) => void snapshots.push(svg)),
            );
          }
        }),
        toArray(),
      ),
    );
    renderMs.push(performance.now() - epochEndedAt);
    console.log(
      `# plotHistory render time per epoch (SVG + PNG): ${renderMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`,
    );
    assert.equal(
      events.filter((e) => e.type === 'custom').length,
      0,
      'no warning: both metrics are logged',
    );

    // The plot of epoch 1 was on disk before epoch 2 began, with one point per series.
    assert.equal(snapshots.length, 2);
    assert.deepEqual(
      [
        ...snapshots[0]!.matchAll(
          /aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"/g,
        ),
      ].map((m) => m[1]),
      [
        'epoch: 1; loss: 0.69; series: loss',
        'epoch: 1; loss: 0.68; series: val_loss',
        'epoch: 1; acc: 0.52; series: acc',
        'epoch: 1; acc: 0.55; series: val_acc',
      ],
    );
    assert.equal(points(snapshots[1]!), 8);

    assert.deepEqual(
      (await readdir(join(dir, 'live'))).sort(),
      ['history.png', 'history.svg'],
      'no temporary file left',
    );
    const svg = await readFile(`${file}.svg`, 'utf8');
    for (const text of ['>loss<', '>val_loss<', '>acc<', '>val_acc<', '>epoch<'])
      assert.ok(svg.includes(text), `the SVG shows ${text}`);
    assert.equal(points(svg), 12);
    const lines = [
      ...svg.matchAll(
        /aria-label="epoch: 1; \w+: [^;]*; series: (\w+)" role="graphics-symbol" aria-roledescription="line mark" d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+L[\d.]+,[\d.]+"/g,
      ),
    ];
    assert.deepEqual(
      lines.map((m) => m[1]),
      ['loss', 'val_loss', 'acc', 'val_acc'],
      'a line through 3 epochs per series',
    );

    const { width, height } = svgSize(svg);
    const png = await sharp(await readFile(`${file}.png`)).metadata();
    assert.equal(png.format, 'png');
    assert.equal(png.width, width);
    assert.equal(png.height, height);
    assert.ok(width > 2 * 360, 'two panels side by side');
  });

  it('replaces the files by rename: a reader never sees a partial file', async () => {
    const file = join(dir, 'rename', 'plot');
    await lastValueFrom(
      scriptedRun(script.slice(0, 1)).pipe(
        plotHistory({ file, metrics: ['loss'], formats: ['svg'] }),
      ),
    );
    const first = await stat(`${file}.svg`);
    await lastValueFrom(
      scriptedRun(script).pipe(plotHistory({ file, metrics: ['loss'], formats: ['svg'] })),
    );
    const second = await stat(`${file}.svg`);
    // A rename installs a new inode; writing in place would keep the old one.
    assert.notEqual(second.ino, first.ino);
    assert.deepEqual(await readdir(join(dir, 'rename')), ['plot.svg']);
  });

  it('warns once about a metric missing from the logs and plots the others', async () => {
    const file = join(dir, 'missing', 'plot');
    const events = await lastValueFrom(
      scriptedRun(script).pipe(
        plotHistory({ file, metrics: ['loss', 'auc'], formats: ['svg'] }),
        toArray(),
      ),
    );
    const warnings = events.filter((e) => e.type === 'custom' && e.name === 'warning');
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /metric 'auc' is not in the epoch logs/);
    const svg = await readFile(`${file}.svg`, 'utf8');
    assert.ok(svg.includes('>val_loss<') && !svg.includes('>auc<'));
  });

  it('fails the run with the file named when it cannot write', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file, not a folder');
    await assert.rejects(
      lastValueFrom(
        scriptedRun(script).pipe(plotHistory({ file: join(blocker, 'plot'), formats: ['svg'] })),
      ),
      /blocker/,
    );
  });

  it('renders a replayed run once at its end with replay on, and nothing without', async () => {
    const live = await lastValueFrom(scriptedRun(script).pipe(toArray()));
    const replayed = live.map(
      (event) => Object.freeze({ ...event, replayed: true as const }) as TrainingEvent,
    );

    const quiet = join(dir, 'replay-off', 'plot');
    await lastValueFrom(from(replayed).pipe(plotHistory({ file: quiet })));
    await assert.rejects(stat(join(dir, 'replay-off')), { code: 'ENOENT' });

    const file = join(dir, 'replay-on', 'plot');
    // The stream completes only after the render, so the files exist right away.
    await lastValueFrom(from(replayed).pipe(plotHistory({ file, metrics: ['acc'], replay: true })));
    const svg = await readFile(`${file}.svg`, 'utf8');
    assert.ok(svg.includes('>val_acc<'));
    assert.equal(points(svg), 6, 'acc and val_acc, 3 epochs each');
  });

  it('rejects bad options, naming the option and the value', () => {
    assert.throws(
      () => plotHistory({ file: '' }),
      /plotHistory: file must be a non-empty path, got ""/,
    );
    assert.throws(
      () => plotHistory({ file: 'x', formats: ['jpg' as never] }),
      /plotHistory: formats must .* got \["jpg"\]/,
    );
    assert.throws(
      () => plotHistory({ file: 'x', metrics: [] }),
      /plotHistory: metrics must name at least one metric/,
    );
    assert.throws(
      () => plotHistory({ file: 'x', width: 0 }),
      /plotHistory: width must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => plotHistory({ file: 'x', pngScale: 0 }),
      /plotHistory: pngScale must be .* got 0/,
    );
  });
});

describe('historySpec', () => {
  it('builds one panel per metric with the m and val_m series, epochs 1-based', async () => {
    const history = await lastValueFrom(scriptedRun(script).pipe(toHistory()));
    const spec = historySpec(history, ['loss', 'acc']) as unknown as {
      data: {
        values: {
          epoch: number;
          metric: string;
          series: string;
          value: number;
        }[];
      };
      hconcat: {
        title: string;
        encoding: { color: { scale: { domain: string[] } } };
      }[];
    };
    assert.deepEqual(
      spec.hconcat.map((panel) => [panel.title, panel.encoding.color.scale.domain]),
      [
        ['loss', ['loss', 'val_loss']],
        ['acc', ['acc', 'val_acc']],
      ],
    );
    assert.equal(spec.data.values.length, 12);
    assert.deepEqual(spec.data.values[0], {
      epoch: 1,
      metric: 'loss',
      series: 'loss',
      value: 0.69,
    });
    assert.deepEqual(spec.data.values.at(-1), {
      epoch: 3,
      metric: 'acc',
      series: 'val_acc',
      value: 0.76,
    });
  });

  it('skips non-finite values and metrics without data; defaults to every logged metric', () => {
    const history = {
      epoch: [0, 1],
      history: {
        loss: [Number.NaN, 1],
        val_loss: [2, Infinity],
        lr: [0.1, 0.1],
        acc: [0.5, 0.6],
      },
    };
    assert.deepEqual(plottableMetrics(history), ['loss', 'acc']);
    assert.deepEqual(plottableMetrics(history, ['auc', 'acc']), ['acc']);
    const spec = historySpec(history, ['loss']) as unknown as {
      data: { values: { series: string; value: number }[] };
    };
    assert.deepEqual(
      spec.data.values.map((row) => [row.series, row.value]),
      [
        ['loss', 1],
        ['val_loss', 2],
      ],
    );
    assert.throws(
      () => historySpec(history, ['auc']),
      /historySpec: no values for auc in the history \(keys: loss, val_loss, lr, acc\)/,
    );
  });

  it('is pure: the same history gives the same spec', async () => {
    const history = await lastValueFrom(
      from([script]).pipe(map(() => ({ epoch: [0, 1, 2], history: { loss: [3, 2, 1] } }))),
    );
    assert.deepEqual(historySpec(history), historySpec(history));
  });
});

describe('plotHistory checks where it writes when the run begins (issue 11, item 5)', () => {
  const BOUND = { timeout: 20_000 };
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'rxfit-plot-target-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function failure(file: string): Promise<{ error: unknown; types: string[] }> {
    const types: string[] = [];
    try {
      await lastValueFrom(scriptedRun(script).pipe(plotHistory({ file }), tap((e) => types.push(e.type))));
    } catch (error) {
      return { error, types };
    }
    return { error: undefined, types };
  }

  it('fails before the first epoch, naming the folder it cannot create', BOUND, async () => {
    await writeFile(join(root, 'plain'), 'in the way');
    const { error, types } = await failure(join(root, 'plain', 'plots', 'history'));
    assert.match(String(error), /plotHistory: cannot create the folder .*plain\/plots for /);
    assert.ok(!types.includes('epochBegin'));
  });

  it('refuses a link at the file path and leaves its target alone', BOUND, async () => {
    await writeFile(join(root, 'mine.svg'), 'my drawing');
    await symlink(join(root, 'mine.svg'), join(root, 'linked.svg'));
    const { error, types } = await failure(join(root, 'linked'));
    assert.match(String(error), /plotHistory: .*linked\.svg is a symbolic link/);
    assert.ok(!types.includes('epochBegin'));
    assert.equal(await readFile(join(root, 'mine.svg'), 'utf8'), 'my drawing');
  });

  it('a replay render refuses a link too', BOUND, async () => {
    await writeFile(join(root, 'theirs.png'), 'their picture');
    await symlink(join(root, 'theirs.png'), join(root, 'replayed.png'));
    const replayed = scriptedRun(script).pipe(map((e) => Object.freeze({ ...e, replayed: true as const })));
    await assert.rejects(
      lastValueFrom(replayed.pipe(plotHistory({ file: join(root, 'replayed'), formats: ['png'], replay: true }))),
      /plotHistory: .*replayed\.png is a symbolic link/,
    );
    assert.equal(await readFile(join(root, 'theirs.png'), 'utf8'), 'their picture');
  });
});
