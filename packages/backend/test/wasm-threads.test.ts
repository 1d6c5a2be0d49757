import { availableParallelism } from 'node:os';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WASM_THREADS_ENV_VAR, useBestBackend } from '@rxfit/backend';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const childScript = path.join(here, 'wasm-threads-child.ts');

/** How long the child may live after printing its result before it counts as hanging. */
const EXIT_WITHIN_MS = 5000;

interface ChildResult {
  readonly name: string;
  readonly threads: number;
  readonly getThreadsCount: number;
  readonly globalsRestored: boolean;
  readonly loss: number;
  readonly values: readonly number[];
  readonly elementwise: readonly (number | null)[];
  /**
   * Largest relative difference from the cpu backend: fused Adam, direct conv; values of the
   * fused relu gradient that differ bit for bit.
   */
  readonly cpuDiff: { readonly adam: number; readonly conv: number; readonly reluGrad: number };
}

/**
 * Runs `wasm-threads-child.ts` in its own process and resolves to its result, the exit code and
 * the time from the result line to the exit. Kills it (and rejects) if it has not exited
 * `EXIT_WITHIN_MS` after its result, or after 60 s in all.
 */
function runChild(
  arg: string,
  env: Record<string, string> = {},
): Promise<{ result: ChildResult; code: number | null; exitAfterMs: number }> {
  return new Promise((resolve, reject) => {
    // The child is a plain program, not a test file; no inherited RXFIT_* choice.
    const {
      NODE_TEST_CONTEXT: _testContext,
      RXFIT_BACKEND: _backend,
      RXFIT_WASM_THREADS: _threads,
      ...inherited
    } = process.env;
    const childEnv: NodeJS.ProcessEnv = { ...inherited, ...env };
    const child = spawn(
      process.execPath,
      ['--conditions=@rxfit/source', '--import', 'tsx', childScript, arg],
      { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let resultAt: number | undefined;
    let exitTimer: NodeJS.Timeout | undefined;
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new Error(`${why}\nstdout: ${stdout.slice(0, 500)}\nstderr: ${stderr}`));
    };
    const total = setTimeout(() => fail('the child ran for more than 60 s'), 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (resultAt === undefined && stdout.includes('\n')) {
        resultAt = performance.now();
        exitTimer = setTimeout(
          () => fail(`the child did not exit within ${EXIT_WITHIN_MS} ms of its result`),
          EXIT_WITHIN_MS,
        );
      }
    });
    child.on('exit', (code) => {
      clearTimeout(total);
      clearTimeout(exitTimer);
      if (resultAt === undefined) {
        reject(new Error(`the child exited (${code}) without a result\nstderr: ${stderr}`));
        return;
      }
      const exitAfterMs = performance.now() - resultAt;
      resolve({
        result: JSON.parse(stdout.split('\n')[0] ?? '') as ChildResult,
        code,
        exitAfterMs,
      });
    });
  });
}

describe('wasm threads', () => {
  test('threads (option and env) must be an integer ≥ 1: a RangeError naming it, before any backend is touched', async () => {
    for (const threads of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as never]) {
      await assert.rejects(useBestBackend({ env: {}, threads }), (err: unknown) => {
        assert.ok(err instanceof RangeError, String(err));
        assert.match(err.message, /options\.threads/);
        return true;
      });
    }
    for (const raw of ['0', 'two', '1.5', '-2', '2x']) {
      await assert.rejects(
        useBestBackend({ env: { [WASM_THREADS_ENV_VAR]: raw }, threads: 2 }),
        (err: unknown) => {
          assert.ok(err instanceof RangeError, String(err));
          assert.match(err.message, /RXFIT_WASM_THREADS/);
          return true;
        },
      );
    }
  });

  test('threads: 2 runs the threaded binary with 2 threads, trains a conv step like a single thread (1e-5), matches cpu in the fused Adam, direct conv and relu gradient, restores the globals, and the process exits by itself', async () => {
    const [one, two, byDefault] = await Promise.all([
      runChild('1'),
      runChild('2'),
      runChild('default'),
    ]);
    assert.equal(one.code, 0);
    assert.equal(two.code, 0);
    assert.equal(one.result.name, 'wasm');
    assert.equal(two.result.name, 'wasm');
    assert.equal(one.result.threads, 1);
    // The default: one thread per core the process may use, at most 8.
    assert.equal(byDefault.code, 0);
    assert.equal(byDefault.result.threads, Math.min(8, availableParallelism()));
    assert.equal(two.result.threads, 2);
    assert.equal(two.result.getThreadsCount, 2);
    assert.equal(two.result.globalsRestored, true);
    assert.ok(Number.isFinite(two.result.loss));
    assert.ok(
      Math.abs(two.result.loss - one.result.loss) <= 1e-5,
      `loss ${two.result.loss} vs ${one.result.loss}`,
    );
    assert.equal(two.result.values.length, one.result.values.length);
    two.result.values.forEach((v, i) => {
      const w = one.result.values[i] ?? NaN;
      assert.ok(Math.abs(v - w) <= 1e-5, `weight ${i}: ${v} (2 threads) vs ${w} (1 thread)`);
    });
    // Split across threads (native) on 2, the stock XNNPACK kernels on 1: the same values.
    assert.equal(two.result.elementwise.length, one.result.elementwise.length);
    // (JSON turns NaN into null, on both sides.)
    two.result.elementwise.forEach((v, i) => {
      const w = one.result.elementwise[i];
      assert.ok(v === w, `element-wise value ${i}: ${v} (2 threads) vs ${w} (1 thread)`);
    });
    // The fused Adam update and the direct conv, split across 2 threads and on 1, against cpu.
    for (const { result } of [one, two]) {
      assert.ok(
        result.cpuDiff.adam <= 1e-6,
        `adam vs cpu: ${result.cpuDiff.adam} (${result.threads} threads)`,
      );
      assert.ok(
        result.cpuDiff.conv <= 1e-5,
        `conv vs cpu: ${result.cpuDiff.conv} (${result.threads} threads)`,
      );
      assert.equal(
        result.cpuDiff.reluGrad,
        0,
        `relu gradient vs cpu: ${result.cpuDiff.reluGrad} values differ (${result.threads} threads)`,
      );
    }
    assert.ok(
      two.exitAfterMs < EXIT_WITHIN_MS,
      `exited ${two.exitAfterMs.toFixed(0)} ms after its result`,
    );
  });

  test('threads cannot change once wasm is initialised: the call says so and reports the threads in use', async () => {
    const first = await useBestBackend({ env: {}, threads: 1 });
    assert.equal(first.name, 'wasm');
    assert.equal(first.threads, 1);
    const lines: string[] = [];
    const again = await useBestBackend({ env: {}, threads: 2, logger: (m) => lines.push(m) });
    assert.equal(again.name, 'wasm');
    assert.equal(again.threads, 1);
    assert.ok(
      lines.some((l) => l.includes('already initialised with 1 thread(s); threads: 2 is ignored')),
      lines.join('\n'),
    );
  });

  test('RXFIT_WASM_THREADS=2 in the environment does the same', async () => {
    const { result, code } = await runChild('env', { [WASM_THREADS_ENV_VAR]: '2' });
    assert.equal(code, 0);
    assert.equal(result.threads, 2);
    assert.equal(result.getThreadsCount, 2);
    assert.equal(result.globalsRestored, true);
  });
});
