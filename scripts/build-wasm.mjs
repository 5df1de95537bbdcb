#!/usr/bin/env node
// Compiles every .wat under src/ into the .wasm beside its compiled JavaScript in dist/src/,
// with wabt (its own WebAssembly build on npm: nothing to download at install time).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import wabtInit from 'wabt';

const root = new URL('..', import.meta.url).pathname;
const wabt = await wabtInit();

function findWat(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return findWat(path);
    return entry.endsWith('.wat') ? [path] : [];
  });
}

for (const source of findWat(join(root, 'src'))) {
  const module = wabt.parseWat(source, readFileSync(source, 'utf8'));
  module.validate();
  const target = join(root, 'dist', relative(root, source)).replace(/\.wat$/, '.wasm');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, module.toBinary({}).buffer);
  module.destroy();
}
