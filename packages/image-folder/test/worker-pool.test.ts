import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

// Each scenario runs in its own process (fixtures/worker-pool-child.ts), where nothing but the
// pool can keep the event loop alive: a pool promise left waiting on no active handle then shows
// as the child exiting early with code 13 (unsettled top-level await) instead of hanging a test
// or depending on how loaded the machine is.
function runChild(
  scenario: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@rxfit/source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'worker-pool-child.ts'),
      scenario,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function expectLines(scenario: string, expected: readonly RegExp[]): Promise<void> {
  const { code, stdout, stderr } = await runChild(scenario);
  const lines = stdout.trim().split('\n');
  const context = `exit code ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
  assert.equal(code, 0, context);
  assert.equal(lines.length, expected.length, context);
  expected.forEach((re, i) => assert.match(lines[i]!, re, context));
}

describe('worker pool: a pending promise always has a live worker behind it', () => {
  it('an idle (unreferenced) worker takes a new job, and close() waits for a slow thread stop', async () => {
    await expectLines('idle-then-close', [/^kept 1$/, /^kept 2$/, /^closed$/]);
  });

  it('a worker that exits with a job in flight rejects it, naming the files; the pool goes on', async () => {
    await expectLines('exit-mid-job', [
      /^rejected: imageFolder: the image worker exited \(code \d+\) while loading the batch of 1 image \[".*[\\/]a[\\/]1\.png"\]$/,
      /^kept 1$/,
      /^closed$/,
    ]);
  });

  it('a worker that crashes rejects its jobs, naming the files, with the crash as the cause', async () => {
    await expectLines('crash-mid-job', [
      /^rejected: imageFolder: the image worker crashed \(.+\) while loading the batch of 2 images \[".*1\.png", ".*2\.png"\] \| cause: Cannot read properties of null/,
      /^kept 1$/,
      /^closed$/,
    ]);
  });
});
