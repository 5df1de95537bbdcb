import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, readdir, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { mulberry32 } from '../src/core/backup/sample-tree.js';
import { cli, json, tempDir } from './cli-harness.js';

/** A random tree: nested dirs, files of random sizes and compressibility, symlinks, modes. */
async function randomTree(root: string, random: () => number, entries: number): Promise<void> {
  const dirs = [root];
  await mkdir(root, { recursive: true });
  for (let i = 0; i < entries; i++) {
    const parent = dirs[Math.floor(random() * dirs.length)];
    const kind = random();
    const name = `n${i}${random() < 0.1 ? ' with space' : ''}${random() < 0.05 ? '-ünï' : ''}`;
    if (kind < 0.2) {
      await mkdir(join(parent, name));
      dirs.push(join(parent, name));
    } else if (kind < 0.27) {
      await symlink(random() < 0.5 ? `../target${i}` : '/etc/hostname', join(parent, name));
    } else {
      await writeFile(join(parent, name), randomContent(random));
      await chmod(join(parent, name), [0o644, 0o600, 0o755, 0o444][Math.floor(random() * 4)]);
      await utimes(join(parent, name), 1_600_000_000 + random() * 1e8, 1_600_000_000 + random() * 1e8);
    }
  }
}

function randomContent(random: () => number): Buffer {
  const size = random() < 0.05 ? Math.floor(random() * 3_000_000) : Math.floor(random() * 20_000);
  const buf = Buffer.alloc(size);
  const compressible = random() < 0.5;
  for (let i = 0; i < size; i++) buf[i] = compressible ? 97 + ((i * 7) % 13) : Math.floor(random() * 256);
  return buf;
}

/** Random edits: append, truncate, overwrite, delete, add. */
async function randomEdits(root: string, random: () => number, count: number): Promise<void> {
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  for (let i = 0; i < count && files.length > 0; i++) {
    const file = files.splice(Math.floor(random() * files.length), 1)[0];
    const action = random();
    if (action < 0.3) await appendFile(file, randomContent(random));
    else if (action < 0.45) await truncate(file, Math.floor((await stat(file)).size / 2));
    else if (action < 0.65) await writeFile(file, randomContent(random));
    else if (action < 0.8) await rm(file);
    else await writeFile(join(root, `added${i}`), randomContent(random));
  }
}

describe('randomized round trip', () => {
  for (const seed of [11, 22, 33]) {
    it(`seed ${seed}: backup → edit → backup → restore each snapshot equals its source`, async (t) => {
      const random = mulberry32(seed);
      const dir = await tempDir(t);
      const data = join(dir, 'data');
      const repo = join(dir, 'repo');
      await randomTree(data, random, 120);
      cli(['init', '--repo', repo]);
      const snapshots: { id: string; copy: string }[] = [];
      for (let round = 0; round < 3; round++) {
        const snap = json(cli(['backup', '--repo', repo, data, '--json']));
        // Keep a copy of the source as it was, to compare older snapshots later.
        const copy = join(dir, `copy${round}`);
        const r = cli(['restore', '--repo', repo, snap.snapshotId, '--target', copy]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await compareTrees(data, join(copy, data)), [], `round ${round}`);
        snapshots.push({ id: snap.snapshotId, copy });
        await randomEdits(data, random, 25);
      }
      const check = cli(['check', '--repo', repo, '--read-data']);
      assert.equal(check.code, 0, check.stdout);

      // forget the oldest, prune, and the remaining snapshots still restore identically.
      const forget = json(cli(['forget', '--repo', repo, '--keep-last', '2', '--prune', '--json']));
      assert.deepEqual(forget.removed, [snapshots[0].id]);
      assert.equal(cli(['check', '--repo', repo, '--read-data']).code, 0);
      for (const { id, copy } of snapshots.slice(1)) {
        const target = join(dir, `again-${id.slice(0, 6)}`);
        assert.equal(cli(['restore', '--repo', repo, id, '--target', target]).code, 0);
        assert.deepEqual(await compareTrees(join(copy, data), join(target, data)), []);
      }
    });
  }
});

describe('forget and prune', () => {
  it('frees the space of forgotten data and keeps what remaining snapshots share', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(data);
    const random = mulberry32(5);
    const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    await writeFile(join(data, 'kept'), noise(2_000_000));
    await writeFile(join(data, 'gone'), noise(6_000_000));
    cli(['init', '--repo', repo]);
    json(cli(['backup', '--repo', repo, data, '--json']));
    await rm(join(data, 'gone'));
    json(cli(['backup', '--repo', repo, data, '--json']));
    const sizeOf = async () => {
      let total = 0;
      for (const e of await readdir(join(repo, 'data'), { recursive: true, withFileTypes: true }))
        if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
      return total;
    };
    const before = await sizeOf();
    const dry = json(cli(['forget', '--repo', repo, '--keep-last', '1', '--dry-run', '--json']));
    assert.equal(dry.removed.length, 1);
    assert.equal(json(cli(['snapshots', '--repo', repo, '--json'])).length, 2, 'dry run removes nothing');
    const result = json(cli(['forget', '--repo', repo, '--keep-last', '1', '--prune', '--json']));
    assert.ok(result.prune.bytesFreed > 5_000_000, `freed ${result.prune.bytesFreed}`);
    const after = await sizeOf();
    assert.ok(after < before - 5_000_000 && after > 1_900_000, `${before} → ${after}`);
    assert.equal(cli(['check', '--repo', repo, '--read-data']).code, 0);
    const target = join(dir, 'out');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', target]).code, 0);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
  });

  it('refuses to forget without a keep policy', async (t) => {
    const dir = await tempDir(t);
    cli(['init', '--repo', dir]);
    const r = cli(['forget', '--repo', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no keep policy/);
  });
});

describe('restore of a large file', () => {
  it('writes it in segments on every worker and sets its mode and mtime once all are written', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(data);
    // 72 MB: more than two 32 MiB segments, half noise and half text, so blobs differ in size.
    const random = mulberry32(9);
    const large = Buffer.alloc(72_000_000);
    for (let i = 0; i < large.length; i++) large[i] = i % 2_000_000 < 1_000_000 ? Math.floor(random() * 256) : 97 + ((i * 7) % 13);
    await writeFile(join(data, 'large.img'), large);
    await chmod(join(data, 'large.img'), 0o444);
    await utimes(join(data, 'large.img'), 1_650_000_000.25, 1_650_000_000.25);
    await writeFile(join(data, 'small'), 'next to it');
    cli(['init', '--repo', repo]);
    json(cli(['backup', '--repo', repo, data, '--json']));
    const target = join(dir, 'out');
    const restored = json(cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']));
    assert.equal(restored.bytes, large.length + 'next to it'.length);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
  });
});
