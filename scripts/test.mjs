#!/usr/bin/env node
// Runs every compiled test (unit tests beside the code in src/, end-to-end tests in test/)
// with node's own runner, so CI reads node's closing summary. Builds first so `npm test`
// is right after any edit, not only after `npm ci`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);
// Layers, lint and formatting first (skipped when only some tests are asked for); the tests
// run even when a check fails, so one CI run reports both, and the run fails if either did.
const checked = filter.length === 0 ? spawnSync(process.execPath, ['scripts/check.mjs'], { cwd: root, stdio: 'inherit' }) : { status: 0 };
// The same build as `npm ci`: the service, its WebAssembly, the console's type check, and the console's bundle (served by the service).
for (const step of [
  ['npx', 'tsc', '-p', 'tsconfig.json'],
  [process.execPath, 'scripts/build-wasm.mjs'],
  ['npx', 'tsc', '-p', 'web/tsconfig.json'],
  ['npx', 'vite', 'build', 'web', '--logLevel', 'warn'],
]) {
  const build = spawnSync(step[0], step.slice(1), { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = findTests(join(root, 'dist')).filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(checked.status !== 0 ? 1 : (run.status ?? 1));
