#!/usr/bin/env node
/**
 * `npm run test:consumer [-- <packs folder>]`: rxfit as a user gets it. Needs the tarballs of
 * `npm run pack` (default folder `packs/`) and the npm registry; not part of `npm test`, which
 * runs offline. CI runs it after `npm run pack`.
 *
 * In a new folder outside the repository it installs @tensorflow/tfjs, rxjs, typescript and
 * @types/node from the registry, then every @rxfit tarball, and checks:
 *
 * 1. installing the tarballs adds no npm warning to those the registry packages print;
 * 2. `npm ls` is clean and the tree holds one @tensorflow/tfjs and one @tensorflow/tfjs-core;
 * 3. every subpath of every installed package's `exports` imports under plain `node` and
 *    type-checks with `tsc --strict` (nodenext, then bundler resolution, which also checks our
 *    `.d.ts` files: skipLibCheck off, only tfjs' own declaration errors tolerated);
 * 4. app/main.ts (core, backend, early-stopping, checkpoint, scheduler, csv-logger, event-log's
 *    resumable + backupAndRestore, a `sink()`), compiled by tsc and run with `node`, killed after
 *    the first batch of epoch 2 and run again: it resumes; its CSV rows, event log, sink lines
 *    and reloaded checkpoint are checked, and it prints nothing on stderr (no tfjs banner);
 * 5. the README's Install section shows app/quick-start.ts and app/tsconfig.json verbatim, and
 *    that program runs;
 * 6. in a second folder, the checkpoint tarball installed alone gets @rxfit/core from the
 *    packs folder through npm `overrides`, the way the README's Install section says.
 *
 * The folders are removed when every check passed and kept (their path printed) otherwise.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const packs = path.resolve(root, process.argv[2] ?? 'packs');
const started = Date.now();
const failures = [];
const check = (ok, message) => {
  if (!ok) failures.push(message);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  return ok;
};

// --- the tarballs: one per package directory
const tarballs = existsSync(packs)
  ? readdirSync(packs)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => path.join(packs, f))
  : [];
const packageNames = readdirSync(path.join(root, 'packages'))
  .filter((d) => existsSync(path.join(root, 'packages', d, 'package.json')))
  .map((d) => JSON.parse(readFileSync(path.join(root, 'packages', d, 'package.json'), 'utf8')));
const tarballOf = (name) => {
  const manifest = packageNames.find((m) => m.name === name);
  const file =
    manifest &&
    path.join(packs, `${name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`);
  return file && tarballs.includes(file) ? file : undefined;
};
for (const m of packageNames) {
  if (!tarballOf(m.name)) fail(`no tarball for ${m.name} in ${packs}: run npm run pack first`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'rxfit-consumer-'));
const app = path.join(work, 'app');
mkdirSync(path.join(app, 'src'), { recursive: true });
console.log(`consumer test in ${work} with ${tarballs.length} tarballs from ${packs}`);

// --- 1. install: the registry packages first, then the tarballs; rxfit may add no warning
const registryDeps = [
  '@tensorflow/tfjs@^4.22.0',
  'rxjs@^7.8.2',
  'typescript@~5.9.3',
  '@types/node@^20.19.0',
  // @rxfit/sweep/redis's optional peers, which a user installs to use the Redis executor.
  'bullmq@^6.7.6',
  'ioredis@^5.9.2',
];
writeFileSync(
  path.join(app, 'package.json'),
  JSON.stringify({ name: 'my-app', private: true, type: 'module' }, null, 2),
);
const install0 = npm(app, ['install', ...registryDeps]);
const install1 = npm(app, ['install', ...tarballs]);
// npm 11's install-scripts warning is a block: a count line, one line per package (whose script text
// it may describe differently on a later install) and a hint. What matters is which packages it
// names: a package rxfit brings in is a new name@version.
const warnings = (r) =>
  (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => /^npm (warn|WARN)/.test(l))
    .map((l) => l.trim())
    .map((l) => l.replace(/^(npm warn install-scripts)\s+(\S+@\S+) \(.*\)$/, '$1 $2'))
    .filter((l) => !/^npm warn install-scripts( \d+ packages? have install scripts.*| Run `npm install-scripts ls`.*)?$/.test(l));
const known = new Set(warnings(install0));
const added = warnings(install1).filter((l) => !known.has(l));
check(
  added.length === 0,
  `installing the tarballs adds no npm warning${added.length ? `:\n  ${added.join('\n  ')}` : ''}`,
);

// --- 2. one tfjs, a clean tree
const ls = run('npm', ['ls', '--all'], { cwd: app });
check(
  ls.status === 0,
  `npm ls exits 0 (no missing or invalid dependency)${ls.status === 0 ? '' : `:\n${ls.stdout}${ls.stderr}`}`,
);
for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core']) {
  const copies = run('npm', ['ls', name, '--all', '--parseable'], { cwd: app })
    .stdout.split('\n')
    .filter((l) => l.endsWith(path.join('node_modules', name)));
  check(
    copies.length === 1,
    `one copy of ${name} (npm ls found ${copies.length}${copies.length === 1 ? '' : `: ${copies.join(', ')}`})`,
  );
}

// --- 3. every declared export, under tsc and plain node
const installed = readdirSync(path.join(app, 'node_modules', '@rxfit')).map((d) =>
  JSON.parse(readFileSync(path.join(app, 'node_modules', '@rxfit', d, 'package.json'), 'utf8')),
);
check(
  installed.length === packageNames.length,
  `all ${packageNames.length} @rxfit packages installed (${installed.length})`,
);
const specifiers = installed.flatMap((m) =>
  Object.keys(m.exports ?? { '.': null }).map((sub) =>
    sub === '.' ? m.name : `${m.name}/${sub.slice(2)}`,
  ),
);
writeFileSync(
  path.join(app, 'src', 'exports.ts'),
  [
    '// Generated by test/consumer/run.mjs: every subpath of every installed @rxfit package.',
    ...specifiers.map((s, i) => `import * as m${i} from '${s}';`),
    `const modules: Record<string, object> = { ${specifiers.map((s, i) => `'${s}': m${i}`).join(', ')} };`,
    'for (const [name, ns] of Object.entries(modules)) {',
    '  if (Object.keys(ns).length === 0) throw new Error(`${name} exports nothing`);',
    '}',
    'console.log(`${Object.keys(modules).length} entry points imported`);',
    '',
  ].join('\n'),
);
copyFileSync(path.join(here, 'app', 'main.ts'), path.join(app, 'src', 'main.ts'));
copyFileSync(path.join(here, 'app', 'quick-start.ts'), path.join(app, 'src', 'quick-start.ts'));
copyFileSync(path.join(here, 'app', 'tsconfig.json'), path.join(app, 'tsconfig.json'));
const tscNode = run('npx', ['tsc', '-p', '.'], { cwd: app });
check(
  tscNode.status === 0,
  `tsc --strict (nodenext) compiles main.ts, quick-start.ts and ${specifiers.length} entry points${tscNode.status === 0 ? '' : `:\n${tscNode.stdout}${tscNode.stderr}`}`,
);
const tscBundler = run(
  'npx',
  [
    'tsc',
    '-p',
    '.',
    '--noEmit',
    '--module',
    'preserve',
    '--moduleResolution',
    'bundler',
    '--skipLibCheck',
    'false',
  ],
  { cwd: app },
);
// tfjs 4.22's own .d.ts do not pass strict checks (skipLibCheck is how its users build); ours must.
const ourErrors = (tscBundler.stdout + tscBundler.stderr)
  .split('\n')
  .filter((l) => /error TS\d+/.test(l) && !l.startsWith('node_modules/@tensorflow/'));
check(
  ourErrors.length === 0,
  `tsc --strict (bundler, skipLibCheck off): no error outside tfjs' own .d.ts${ourErrors.length ? `:\n  ${ourErrors.join('\n  ')}` : ''}`,
);
const exportsRun = run('node', ['dist/exports.js'], { cwd: app });
check(
  exportsRun.status === 0,
  `plain node imports every entry point${exportsRun.status === 0 ? ` (${exportsRun.stdout.trim()})` : `:\n${exportsRun.stderr}`}`,
);

// --- 4. the user's program: crash after the first batch of epoch 2, then resume
const out = path.join(app, 'out');
mkdirSync(out);
const env = { ...process.env, RXFIT_BACKEND: '', RXFIT_WASM_THREADS: '' };
const first = run('node', ['dist/main.js', out], {
  cwd: app,
  env: { ...env, CRASH_AT_EPOCH: '2' },
});
check(
  first.signal === 'SIGKILL',
  `first run kills itself in epoch 2 (signal ${first.signal}, status ${first.status})${first.signal === 'SIGKILL' ? '' : `:\n${first.stderr}`}`,
);
const second = run('node', ['dist/main.js', out], { cwd: app, env });
check(
  second.status === 0,
  `second run resumes and ends with status 0 (${second.status})${second.status === 0 ? '' : `:\n${second.stderr}`}`,
);
check(
  first.stderr + second.stderr === '',
  `nothing on stderr (no tfjs banner, no kernel registered twice)${first.stderr + second.stderr === '' ? '' : `:\n${first.stderr}${second.stderr}`}`,
);
if (second.status === 0) checkOutputs(out);

// --- the README's Install section: its program and tsconfig are these files, and they run
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
for (const file of ['quick-start.ts', 'tsconfig.json']) {
  check(
    readme.includes(readFileSync(path.join(here, 'app', file), 'utf8')),
    `README.md shows test/consumer/app/${file} verbatim`,
  );
}
const quick = run('node', ['dist/quick-start.js'], { cwd: app, env });
check(
  quick.status === 0 &&
    /^wasm: \d+ epochs, val_acc \d\.\d{3}\n$/.test(quick.stdout) &&
    quick.stderr === '',
  `the README's program runs with plain node and prints only its summary (${quick.stdout.trim() || quick.stderr.trim()})`,
);
check(
  existsSync(path.join(app, 'training.csv')) &&
    existsSync(path.join(app, 'checkpoints', 'best', 'model.json')),
  "the README's program wrote training.csv and checkpoints/best",
);

// --- 5. one package alone: its @rxfit dependencies come from the packs folder via overrides
const single = path.join(work, 'single');
mkdirSync(single);
// Every other @rxfit package, as the README says (npm refuses an override of a direct dependency).
const overrides = Object.fromEntries(
  packageNames
    .filter((m) => m.name !== '@rxfit/checkpoint')
    .map((m) => [m.name, `file:${tarballOf(m.name)}`]),
);
writeFileSync(
  path.join(single, 'package.json'),
  JSON.stringify({ name: 'one-package', private: true, type: 'module', overrides }, null, 2),
);
const installSingle = npm(single, [
  'install',
  tarballOf('@rxfit/checkpoint'),
  '@tensorflow/tfjs@^4.22.0',
]);
check(
  installSingle.status === 0,
  'npm install of the checkpoint tarball alone (with overrides) succeeds',
);
const present = existsSync(path.join(single, 'node_modules', '@rxfit'))
  ? readdirSync(path.join(single, 'node_modules', '@rxfit')).sort()
  : [];
check(
  present.join(',') === 'checkpoint,core',
  `it installs @rxfit/checkpoint and @rxfit/core only (${present.join(', ')})`,
);
const lock = JSON.parse(readFileSync(path.join(single, 'package-lock.json'), 'utf8'));
const coreResolved = lock.packages?.['node_modules/@rxfit/core']?.resolved ?? '';
check(
  coreResolved.startsWith('file:') &&
    coreResolved.endsWith(
      'rxfit-core-' + packageNames.find((m) => m.name === '@rxfit/core').version + '.tgz',
    ),
  `@rxfit/core is resolved from the packs folder (${coreResolved})`,
);
const singleRun = run(
  'node',
  [
    '--input-type=module',
    '-e',
    "const { modelCheckpoint } = await import('@rxfit/checkpoint'); if (typeof modelCheckpoint !== 'function') throw new Error('no modelCheckpoint');",
  ],
  { cwd: single },
);
check(
  singleRun.status === 0,
  `plain node imports @rxfit/checkpoint there${singleRun.status === 0 ? '' : `:\n${singleRun.stderr}`}`,
);
const singleLs = run('npm', ['ls', '--all'], { cwd: single });
check(
  singleLs.status === 0,
  `npm ls exits 0 there${singleLs.status === 0 ? '' : `:\n${singleLs.stdout}${singleLs.stderr}`}`,
);

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.log(
    `consumer test: ${failures.length} check(s) failed in ${seconds} s; folder kept: ${work}`,
  );
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
console.log(`consumer test: every check passed in ${seconds} s`);

function checkOutputs(dir) {
  // The CSV: one row per epoch 0..5, in order, with the scheduler's rate (0.05, then 0.025 from epoch 3).
  const [header, ...rows] = readFileSync(path.join(dir, 'log.csv'), 'utf8').trim().split(/\r?\n/);
  const cols = header.split(',');
  check(
    ['epoch', 'loss', 'lr', 'val_loss'].every((c) => cols.includes(c)),
    `log.csv has epoch, loss, lr, val_loss columns (${header})`,
  );
  const table = rows.map((r) =>
    Object.fromEntries(r.split(',').map((v, i) => [cols[i], Number(v)])),
  );
  check(
    table.map((r) => r.epoch).join() === '0,1,2,3,4,5',
    `log.csv has one row per epoch 0..5, none twice after the resume (${table.map((r) => r.epoch).join()})`,
  );
  check(
    table.every((r) => Math.abs(r.lr - (r.epoch < 3 ? 0.05 : 0.025)) < 1e-6),
    `log.csv's lr follows the schedule across the resume (${table.map((r) => r.lr.toPrecision(3)).join()})`,
  );

  // The event log: header, then one run started twice (the resume) that completed.
  const [logHeader, ...events] = readFileSync(path.join(dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  check(
    logHeader.schema === 'rxfit.events' && logHeader.version === 1,
    'events.jsonl starts with its schema header',
  );
  const types = (t) => events.filter((e) => e.type === t);
  check(
    types('trainBegin').length === 2 &&
      types('trainEnd').length === 1 &&
      types('trainEnd')[0].reason === 'completed',
    `events.jsonl: 2 trainBegin (the resume), 1 trainEnd completed`,
  );
  check(
    types('epochEnd')
      .map((e) => e.epoch)
      .join() === '0,1,2,3,4,5',
    `events.jsonl: epochEnd 0..5 once each (${types('epochEnd')
      .map((e) => e.epoch)
      .join()})`,
  );
  check(
    events.every((e, i) => e.seq === i),
    'events.jsonl: seq 0,1,2,... with no gap across the resume',
  );

  // The sink: live epochs 0,1 (first process), replayed 0,1 then live 2..5 (second).
  const lines = readFileSync(path.join(dir, 'sink.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const seen = lines.map((l) => `${l.replayed ? 'r' : ''}${l.epoch}`).join();
  check(
    seen === '0,1,r0,r1,2,3,4,5',
    `the sink saw live 0,1, replayed 0,1, then live 2..5 (${seen})`,
  );

  // The program's result: the resumed run, and the checkpoint reloaded by loadCheckpoint.
  const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
  check(
    result.backend === 'wasm' && result.tfBackend === 'wasm',
    `useBestBackend chose wasm without native packages (${result.backend})`,
  );
  check(
    result.runs.length === 1 &&
      result.runs[0].starts === 2 &&
      result.runs[0].endReason === 'completed',
    'listRuns: one run, started twice, completed',
  );
  check(
    existsSync(path.join(dir, 'best', 'model.json')) &&
      existsSync(path.join(dir, 'best', 'weights.bin')),
    'the checkpoint folder holds model.json and weights.bin',
  );
  const bestEpoch = table.reduce((b, r) => (r.val_loss < b.val_loss ? r : b)).epoch;
  check(
    result.predictionShape.join() === '4,1' && result.prediction.every((p) => p > 0 && p < 1),
    `loadCheckpoint's model predicts 4 probabilities (${result.prediction.map((p) => p.toFixed(3)).join(', ')})`,
  );
  if (bestEpoch === 5) {
    const same = result.prediction.every((p, i) => Math.abs(p - result.livePrediction[i]) < 1e-6);
    check(same, 'the best checkpoint (last epoch) predicts what the trained model predicts');
  } else {
    check(
      result.prediction.some((p, i) => p !== result.livePrediction[i]),
      `the best checkpoint (epoch ${bestEpoch}) is not the last weights`,
    );
  }
}

function npm(cwd, args) {
  const r = run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd });
  if (r.status !== 0) fail(`npm ${args.join(' ')} failed in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r;
}

function run(cmd, args, options) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}

function fail(message) {
  console.log(`FAIL ${message}`);
  console.log('consumer test: stopped');
  process.exit(1);
}
