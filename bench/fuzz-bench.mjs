#!/usr/bin/env node
// The long fuzz run (issue 15): the same fuzz tests as `npm test`, each with FUZZ_RUNS inputs
// (100,000 unless given: `npm run bench:fuzz -- 20000`), one decoder at a time so the lines
// "fuzz NAME: N inputs in T s (R/s): outcome n, …" come out as each finishes. FUZZ_SEED
// replays a failure the test printed. Run after `npm run build` (or `npm test -- .fuzz.`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const runs = process.argv[2] ?? process.env.FUZZ_RUNS ?? '100000';
// The API target answers ~100 requests a second on this machine: 100,000 of them take a quarter of an hour.
const apiRuns = process.env.FUZZ_API_RUNS ?? runs;

function find(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? find(path) : entry.endsWith('.fuzz.test.js') ? [path] : [];
  });
}

let failed = 0;
for (const file of find(join(root, 'dist'))) {
  const api = file.includes('api-bodies');
  const run = spawnSync(process.execPath, ['--test', '--test-timeout=0', '--test-reporter=spec', file], {
    cwd: root,
    env: { ...process.env, FUZZ_RUNS: api ? apiRuns : runs },
    encoding: 'utf8',
  });
  const out = run.stdout + run.stderr;
  for (const line of out.split('\n')) if (/^\s*fuzz .*inputs in|failed after/.test(line)) console.log(line.trim());
  if (run.status !== 0) {
    failed++;
    console.log(`FAILED: ${file.slice(root.length)}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
