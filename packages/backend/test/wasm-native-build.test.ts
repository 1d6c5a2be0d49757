import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const buildScript = fileURLToPath(new URL('../src/wasm-kernels/native/build.sh', import.meta.url));

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test(
  'the committed wasm binaries are what native/build.sh builds from native/*.c',
  {
    // CI installs emscripten (.ci/run), so there a missing toolchain is a failure, not a skip.
    skip:
      (has('emcc') && has('wasm-ld-14')) || process.env['CI'] === 'true'
        ? false
        : 'needs Debian’s emscripten (apt-get install emscripten)',
    timeout: 120_000,
  },
  () => {
    // Throws (non-zero exit) when wasm-binaries.ts differs from a fresh build.
    execFileSync('sh', [buildScript, '--check'], { stdio: 'pipe' });
  },
);
