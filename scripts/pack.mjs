#!/usr/bin/env node
/**
 * `npm run pack [-- <folder>]`: packs every package under packages/ into one folder (default
 * `packs/`), each through its own `prepack` (`tsc -b`), then checks what each tarball holds:
 *
 * - every target of its `exports` map is in it (types, default and the source condition);
 * - every `src/*.ts` has its built `dist/*.js`, `.js.map`, `.d.ts` and `.d.ts.map`, and no
 *   `dist/` file lacks its source (a stale build would ship deleted modules);
 * - README.md, LICENSE and package.json are in it; tests, fixtures and build info are not;
 * - its manifest: `"type": "module"`, the root's `engines.node`, `@rxfit/*` dependencies as
 *   `^<version of that package>` (never `*`), `@tensorflow/tfjs` only as a peer dependency.
 *
 * Plain Node on purpose: CI runs it before anything else that needs a build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dest = path.resolve(root, process.argv[2] ?? 'packs');

const rootManifest = readJson(path.join(root, 'package.json'));
const packageDirs = readdirSync(path.join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(root, 'packages', d.name, 'package.json')))
  .map((d) => path.join(root, 'packages', d.name));
const manifests = new Map(
  packageDirs.map((dir) => [dir, readJson(path.join(dir, 'package.json'))]),
);
const versions = new Map([...manifests.values()].map((m) => [m.name, m.version]));

rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });

// One npm call for all of them: each package's prepack builds it (and what it references).
const stdout = execFileSync(
  'npm',
  ['pack', '--workspace', 'packages', '--pack-destination', dest, '--json', '--loglevel', 'error'],
  {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  },
);
const packed = JSON.parse(stdout.slice(stdout.indexOf('[')));

const problems = [];
for (const dir of packageDirs) {
  const manifest = manifests.get(dir);
  const result = packed.find((p) => p.name === manifest.name);
  if (!result) {
    problems.push(`${manifest.name}: npm pack made no tarball`);
    continue;
  }
  const files = new Set(result.files.map((f) => f.path));
  const say = (msg) => problems.push(`${manifest.name} (${result.filename}): ${msg}`);

  for (const [subpath, target] of exportTargets(manifest.exports)) {
    if (!files.has(target.replace(/^\.\//, '')))
      say(`exports["${subpath}"] points at ${target}, not in the tarball`);
  }
  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!files.has(required)) say(`${required} is missing`);
  }
  const sources = [...files].filter(
    (f) => f.startsWith('src/') && f.endsWith('.ts') && !f.endsWith('.d.ts'),
  );
  if (sources.length === 0) say('no src/*.ts in the tarball');
  for (const src of sources) {
    const base = src.replace(/^src\//, 'dist/').replace(/\.ts$/, '');
    for (const ext of ['.js', '.js.map', '.d.ts', '.d.ts.map']) {
      if (!files.has(base + ext))
        say(`${base + ext} is missing (built from ${src}; run npm run build; a dist removed by hand needs its tsconfig.tsbuildinfo removed too, or tsc -b thinks it is up to date)`);
    }
  }
  for (const file of files) {
    if (
      /(^|\/)(test|tests|__tests__|fixtures)\//.test(file) ||
      /\.(test|spec)\.[cm]?[jt]s$/.test(file)
    ) {
      say(`${file} is a test or fixture and must not ship`);
    }
    if (file.endsWith('.tsbuildinfo')) say(`${file} is build state and must not ship`);
    const m = /^dist\/(.+)\.(js|js\.map|d\.ts|d\.ts\.map)$/.exec(file);
    if (m && !files.has(`src/${m[1]}.ts`))
      say(`${file} has no source src/${m[1]}.ts (stale build: rm -rf packages/*/dist packages/*/tsconfig.tsbuildinfo && npx tsc -b; tsc -b --clean leaves outputs of deleted sources, and a dist removed without its tsbuildinfo is not rebuilt)`);
  }

  if (manifest.type !== 'module') say('"type" must be "module"');
  if (manifest.engines?.node !== rootManifest.engines.node) {
    say(
      `engines.node is ${JSON.stringify(manifest.engines?.node)}; the root says ${rootManifest.engines.node}`,
    );
  }
  if (manifest.license !== 'MIT') say(`license is ${JSON.stringify(manifest.license)}, not MIT`);
  for (const field of [
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
  ]) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (name.startsWith('@rxfit/') && field !== 'devDependencies') {
        const want = `^${versions.get(name)}`;
        if (range !== want)
          say(`${field}["${name}"] is ${range}; use ${want} (the version in this repo)`);
      }
      if (
        name === '@tensorflow/tfjs' &&
        (field === 'dependencies' || field === 'optionalDependencies')
      ) {
        say(
          `@tensorflow/tfjs is in ${field}: it must be a peer dependency, so an app holds one copy`,
        );
      }
    }
  }
  if (!manifest.scripts?.prepack) say('no "prepack" script: npm pack would not build it first');
}

if (problems.length > 0) {
  console.error(`npm run pack: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
for (const p of packed) {
  console.log(
    `${p.filename.padEnd(40)} ${String(p.entryCount).padStart(4)} files ${(p.size / 1024).toFixed(1).padStart(7)} kB`,
  );
}
console.log(`${packed.length} tarballs in ${path.relative(process.cwd(), dest) || '.'}`);

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** [subpath, file] for every file an exports map points at, through nested conditions. */
function exportTargets(exportsField) {
  const out = [];
  const walk = (subpath, value) => {
    if (typeof value === 'string') out.push([subpath, value]);
    else if (value && typeof value === 'object')
      for (const v of Object.values(value)) walk(subpath, v);
  };
  if (typeof exportsField === 'string') walk('.', exportsField);
  else for (const [subpath, value] of Object.entries(exportsField ?? {})) walk(subpath, value);
  if (out.length === 0) out.push(['.', '(no exports map)']);
  return out;
}
