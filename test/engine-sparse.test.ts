import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

const MiB = 1024 * 1024;

/** A sparse file of `size` bytes with `extents` of random data at the given MiB offsets. */
function sparseImage(path: string, size: number, extentsAtMiB: number[], extentBytes = MiB): Buffer[] {
  closeSync(openSync(path, 'w'));
  const written: Buffer[] = [];
  const fd = openSync(path, 'r+');
  try {
    for (const at of extentsAtMiB) {
      const data = randomBytes(extentBytes);
      writeSync(fd, data, 0, data.length, at * MiB);
      written.push(data);
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

function allocated(path: string): number {
  return statSync(path).blocks * 512;
}

function sameBytes(a: string, b: string): boolean {
  return spawnSync('cmp', ['--silent', a, b]).status === 0;
}

interface BackupJson {
  bytesRead: number;
  bytesAdded: number;
  warnings: { path: string; message: string }[];
}

describe('sparse files and disk images', () => {
  it('stores the data of a sparse image, not its holes, and restores it byte for byte as a sparse file', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    const repo = join(dir, 'repo');
    await mkdir(src);
    // Large enough to be split across the workers (chunk-pool.ts), one ending in a hole, one in data.
    const big = join(src, 'disk.img');
    await truncate(big, 0).catch(() => undefined);
    sparseImage(big, 0, [3, 60, 130]);
    await truncate(big, 300 * MiB);
    const small = join(src, 'small.img');
    sparseImage(small, 0, [0, 9, 23]);
    assert.equal(statSync(small).size, 24 * MiB);
    assert.ok(allocated(big) <= 4 * MiB && allocated(small) <= 4 * MiB, 'the sources are sparse');
    assert.equal(cli(['init', '--repo', repo]).code, 0);

    const summary = json<BackupJson>(cli(['backup', '--repo', repo, '--json', src]));
    assert.deepEqual(summary.warnings, []);
    assert.equal(summary.bytesRead, 324 * MiB, 'holes are still read (Node has no SEEK_DATA), as zeros');
    // 6 MiB of random data, incompressible; the holes add one small zero blob per chunk length.
    assert.ok(summary.bytesAdded < 7 * MiB, `added ${summary.bytesAdded} bytes for 6 MiB of data`);

    const out = join(dir, 'out');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', out]).code, 0);
    for (const file of [big, small]) {
      const restored = join(out, file);
      assert.equal(statSync(restored).size, statSync(file).size);
      assert.ok(sameBytes(file, restored), `${file} restores byte for byte`);
      assert.ok(allocated(restored) <= 8 * MiB, `${file} restored with ${allocated(restored)} bytes allocated`);
    }
  });

  it('restores a file of written zeros as holes, and the zero blocks inside data too', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    const repo = join(dir, 'repo');
    await mkdir(src);
    // Allocated zeros (not holes) in the source: the restore leaves holes for them all the same.
    await writeFile(join(src, 'zeros'), Buffer.alloc(20 * MiB));
    // Zero runs inside data chunks: a block (4 KiB) of zeros is a hole too, a shorter run is written.
    const mixed = Buffer.concat([randomBytes(300_000), Buffer.alloc(5000), randomBytes(300_000), Buffer.alloc(70_000)]);
    await writeFile(join(src, 'mixed'), mixed);
    await writeFile(join(src, 'empty'), '');
    assert.ok(allocated(join(src, 'zeros')) >= 20 * MiB);
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    json(cli(['backup', '--repo', repo, '--json', src]));
    const out = join(dir, 'out');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', out]).code, 0);
    for (const name of ['zeros', 'mixed', 'empty']) assert.ok(sameBytes(join(src, name), join(out, src, name)), name);
    assert.equal(statSync(join(out, src, 'zeros')).size, 20 * MiB);
    assert.ok(allocated(join(out, src, 'zeros')) < MiB, 'all-zero chunks are holes');
    const mixedAllocated = allocated(join(out, src, 'mixed'));
    assert.ok(mixedAllocated >= 600_000 && mixedAllocated <= mixed.length - 64 * 1024, `mixed: ${mixedAllocated} bytes allocated`);
  });

  it('warns about and marks an image that changes while it is read, keeps what was read, and reads it again next time', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    const repo = join(dir, 'repo');
    await mkdir(src);
    const image = join(src, 'running.img');
    const quiet = join(src, 'quiet.img');
    // Random data: hashing, compressing and sealing 128 MiB keeps the reading open far longer
    // than the writer needs between two writes, which it goes on with until the backup ends.
    await writeFile(image, randomBytes(128 * MiB));
    await writeFile(quiet, randomBytes(MiB));
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const writer = spawn(process.execPath, [
      '-e',
      `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(image)}, 'r+'); let i = 0;
       process.stdout.write('writing\\n');
       setInterval(() => fs.writeSync(fd, Buffer.from([i++ & 255]), 0, 1, (i * 4099) % ${128 * MiB}), 1);`,
    ]);
    t.after(() => writer.kill());
    await new Promise((resolve) => writer.stdout.once('data', resolve));
    const r = cli(['backup', '--repo', repo, '--json', src]);
    writer.kill();
    assert.equal(r.code, 3, 'a backup with a file changed while read is partial');
    const summary = json<BackupJson>(r);
    assert.equal(summary.warnings.length, 1);
    assert.equal(summary.warnings[0].path, image);
    assert.match(summary.warnings[0].message, /^file changed while reading: .+; stored as read, marked in the snapshot$/);
    assert.equal(summary.bytesRead, 129 * MiB);

    const listed = cli(['ls', '--repo', repo, '--json', 'latest', src]);
    assert.equal(listed.code, 0, listed.stderr);
    const nodes = JSON.parse(listed.stdout) as { path: string; changedWhileRead?: boolean }[];
    const marked = nodes.filter((n) => n.changedWhileRead === true).map((n) => n.path);
    assert.deepEqual(marked, [image]);

    // Unchanged since, by its stat: it is read again all the same, and now without a warning.
    const again = json<BackupJson & { filesChanged: number; filesUnchanged: number }>(cli(['backup', '--repo', repo, '--json', src]));
    assert.deepEqual(again.warnings, []);
    assert.equal(again.filesChanged, 1);
    assert.equal(again.filesUnchanged, 1);
  });
});
