import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** Runs an example as a user would, from the repository root; returns its stdout. */
async function example(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=@rxfit/source', '--import', 'tsx', `examples/${name}/src/main.ts`, ...args],
    { cwd: root, timeout: 60_000 },
  );
  return stdout;
}

interface LoggedEvent {
  readonly type: string;
  readonly epoch?: number;
  readonly logs?: Record<string, number>;
  readonly by?: string;
  readonly reason?: string;
}

async function readLog(path: string): Promise<LoggedEvent[]> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
  return lines
    .map((line) => JSON.parse(line) as LoggedEvent)
    .filter((e) => typeof e.type === 'string');
}

/**
 * Keras 3's EarlyStopping decision, written out independently of the package: the epoch where
 * it stops, or undefined.
 */
function kerasStopEpoch(
  values: readonly number[],
  patience: number,
  minDelta: number,
  mode: 'min' | 'max',
): number | undefined {
  let best = mode === 'min' ? Infinity : -Infinity;
  let wait = 0;
  for (const [epoch, value] of values.entries()) {
    wait++;
    const improved = mode === 'min' ? value < best - minDelta : value > best + minDelta;
    if (improved) {
      best = value;
      wait = 0;
      continue;
    }
    if (wait >= patience && epoch > 0) return epoch;
  }
  return undefined;
}

describe('examples: custom-sink and what-if, run as a user runs them', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'rxfit-custom-sink-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('custom-sink: best.json holds the best val_acc; the summary names who stopped the run and why', async () => {
    const stdout = await example('custom-sink', out);
    const events = await readLog(join(out, 'events.jsonl'));
    const epochEnds = events.filter((e) => e.type === 'epochEnd');
    const accs = epochEnds.map((e) => e.logs!['val_acc']!);
    const bestAcc = Math.max(...accs);
    const bestEpoch = epochEnds[accs.indexOf(bestAcc)]!.epoch;
    assert.deepEqual(JSON.parse(await readFile(join(out, 'best.json'), 'utf8')), {
      epoch: bestEpoch,
      val_acc: bestAcc,
    });

    const stop = events.find((e) => e.type === 'stopRequested');
    assert.ok(stop, 'earlyStopping stopped the run');
    assert.equal(stop.by, 'earlyStopping');
    assert.equal(
      stdout.trim(),
      `training stopped by earlyStopping at epoch ${stop.epoch} (${stop.reason}); best val_acc ${bestAcc.toFixed(3)} at epoch ${bestEpoch}`,
    );
    assert.match(stop.reason!, /val_acc did not improve for 3 epochs/);
    assert.equal(events.at(-1)!.type, 'trainEnd');
  });

  it('what-if: replays the sample log under each policy and prints where it would have stopped', async () => {
    const stdout = await example('what-if');
    const events = await readLog(join(root, 'examples/what-if/sample/events.jsonl'));
    const epochEnds = events.filter((e) => e.type === 'epochEnd');
    const valLoss = epochEnds.map((e) => e.logs!['val_loss']!);
    const valAcc = epochEnds.map((e) => e.logs!['val_acc']!);
    const expected = [
      ['{"monitor":"val_loss","patience":0}', kerasStopEpoch(valLoss, 0, 0, 'min')],
      ['{"monitor":"val_loss","patience":3}', kerasStopEpoch(valLoss, 3, 0, 'min')],
      [
        '{"monitor":"val_loss","patience":3,"minDelta":0.005}',
        kerasStopEpoch(valLoss, 3, 0.005, 'min'),
      ],
      ['{"monitor":"val_loss","patience":10}', kerasStopEpoch(valLoss, 10, 0, 'min')],
      ['{"monitor":"val_acc","patience":5}', kerasStopEpoch(valAcc, 5, 0, 'max')],
    ] as const;
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'run sample-overfit: epochs 0-29 logged, completed');
    const verdicts = lines.filter((line) => line.startsWith('earlyStopping('));
    assert.deepEqual(
      verdicts,
      expected.map(([options, epoch]) =>
        epoch === undefined
          ? `earlyStopping(${options}) -> would not stop within the logged epochs`
          : `earlyStopping(${options}) -> stops at epoch ${epoch}`,
      ),
    );
    assert.ok(
      new Set(expected.map(([, epoch]) => epoch)).size >= 4,
      'the policies disagree: the sample is worth replaying',
    );
    const reasons = lines.filter((line) => line.startsWith('    earlyStopping: '));
    assert.equal(reasons.length, expected.filter(([, epoch]) => epoch !== undefined).length);
  });

  it('what-if: replays the log the custom-sink example wrote', async () => {
    const stdout = await example('what-if', join(out, 'events.jsonl'));
    const events = await readLog(join(out, 'events.jsonl'));
    const last = events.filter((e) => e.type === 'epochEnd').at(-1)!.epoch;
    const lines = stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^run [0-9a-f-]{36}: epochs 0-${last} logged, stopped$`));
    assert.equal(lines.filter((line) => line.startsWith('earlyStopping(')).length, 5);
  });

  it('docs/writing-a-sink.md includes the examples code verbatim', async () => {
    const doc = await readFile(join(root, 'docs/writing-a-sink.md'), 'utf8');
    const included = [...doc.matchAll(/<!-- file: (\S+) -->\n```ts\n([\s\S]*?)```/g)];
    assert.deepEqual(included.map((m) => m[1]).sort(), [
      'examples/custom-sink/src/best-accuracy-sink.ts',
      'examples/custom-sink/src/main.ts',
      'examples/what-if/src/main.ts',
    ]);
    for (const [, file, code] of included) {
      assert.equal(
        code,
        await readFile(join(root, file!), 'utf8'),
        `${file} differs from its copy in the doc`,
      );
    }
  });
});
