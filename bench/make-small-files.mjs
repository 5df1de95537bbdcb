#!/usr/bin/env node
// Writes N small files (1–3 KiB of seeded, incompressible-enough bytes) in directories of
// 1,000, the tree of issue 14. The same count and seed give the same bytes, so runs compare.
//
//   node bench/make-small-files.mjs DIR [--files 200000] [--per-dir 1000] [--seed 1]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** A small, fast, seeded generator (xorshift32): the content must repeat across runs, not be secure. */
function randomBytes(seed) {
  let x = seed >>> 0 || 1;
  return (buf) => {
    for (let i = 0; i < buf.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      buf.writeUInt32LE(x >>> 0, i);
    }
    return buf;
  };
}

/** Builds the tree unless DIR already holds one made with the same parameters. */
export function makeSmallFiles(dir, { files, perDir = 1000, seed = 1 }) {
  const stamp = join(dir, '.complete');
  const params = JSON.stringify({ files, perDir, seed });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === params) return;
  rmSync(dir, { recursive: true, force: true });
  const fill = randomBytes(seed);
  const buf = Buffer.alloc(3 * 1024);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${String(Math.floor(i / perDir)).padStart(5, '0')}`);
    if (i % perDir === 0) mkdirSync(sub, { recursive: true });
    fill(buf);
    const size = 1024 + (buf.readUInt32LE(0) % 2049);
    writeFileSync(join(sub, `f${String(i % perDir).padStart(4, '0')}.bin`), buf.subarray(0, size));
  }
  writeFileSync(stamp, params);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { files: { type: 'string', default: '200000' }, 'per-dir': { type: 'string', default: '1000' }, seed: { type: 'string', default: '1' } },
  });
  if (positionals.length !== 1) throw new Error('usage: make-small-files.mjs DIR [--files N] [--per-dir N] [--seed N]');
  makeSmallFiles(positionals[0], { files: Number(values.files), perDir: Number(values['per-dir']), seed: Number(values.seed) });
}
