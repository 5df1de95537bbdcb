#!/usr/bin/env node
// The static checks CI runs before the tests (`npm test` calls this first; `npm run check`
// alone): the layer rules and cycles (dependency-cruiser, .dependency-cruiser.cjs), ESLint,
// and Prettier's formatting. Each runs even when one before it failed, so one run shows all.
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const sources = ['src', 'test', 'web/src', 'bench', 'scripts'];
const checks = [
  ['layers and cycles', ['depcruise', '--config', '.dependency-cruiser.cjs', 'src', 'web/src', 'test']],
  ['lint', ['eslint', ...sources]],
  ['formatting', ['prettier', '--check', '--log-level', 'warn', ...sources, '*.js', '*.cjs']],
];

let failed = 0;
for (const [what, args] of checks) {
  const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`check failed: ${what} (npx ${args.join(' ')})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
