import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

/** Every file of a directory tree with the hash of its bytes: a repository, compared before and after. */
async function contents(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(root, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

interface Summary {
  dryRun?: boolean;
  filesNew: number;
  filesChanged: number;
  filesUnchanged: number;
  bytesRead: number;
  bytesAdded: number;
  totalFiles: number;
}

describe('backup --dry-run (issue 18)', () => {
  it('says what a backup would add, to the byte, and leaves the repository byte for byte as it was', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(join(data, 'sub'), { recursive: true });
    await writeFile(join(data, 'same.txt'), 'unchanged '.repeat(1000));
    await writeFile(join(data, 'sub', 'edited.txt'), 'before');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    assert.equal(cli(['backup', '--repo', repo, data, '--threads', '1']).code, 0);
    await writeFile(join(data, 'sub', 'edited.txt'), 'after, and longer');
    await writeFile(join(data, 'new.bin'), Buffer.alloc(300_000, 7));

    const before = await contents(repo);
    const dry = cli(['backup', '--repo', repo, data, '--threads', '1', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const would = json<Summary>(dry);
    assert.equal(would.dryRun, true);
    assert.equal('snapshotId' in would, false, 'a dry run names no snapshot');
    assert.deepEqual([would.filesNew, would.filesChanged, would.filesUnchanged, would.totalFiles], [1, 1, 1, 3]);
    assert.equal(would.bytesRead, 300_000 + 'after, and longer'.length);
    assert.ok(would.bytesAdded > 0);
    assert.deepEqual(await contents(repo), before, 'no pack, index, snapshot or lock file is left behind');
    assert.equal(json<unknown[]>(cli(['snapshots', '--repo', repo, '--json'])).length, 1);

    // The real run adds what the dry one said (one thread: the same packs). The index file
    // names the packs by their random ids, which compress a few bytes better or worse.
    const real = json<Summary & { snapshotId: string }>(cli(['backup', '--repo', repo, data, '--threads', '1', '--json']));
    assert.deepEqual(
      [real.filesNew, real.filesChanged, real.filesUnchanged, real.bytesRead],
      [would.filesNew, would.filesChanged, would.filesUnchanged, would.bytesRead],
    );
    assert.ok(Math.abs(real.bytesAdded - would.bytesAdded) <= 32, `added ${real.bytesAdded}, the dry run said ${would.bytesAdded}`);
    // Once stored, no file is new: a dry run now reads nothing (its trees may still differ:
    // the directories above the data, /tmp among them, change as other programs use them).
    const again = json<Summary>(cli(['backup', '--repo', repo, data, '--dry-run', '--json']));
    assert.deepEqual([again.filesNew, again.filesChanged, again.filesUnchanged, again.bytesRead], [0, 0, 3, 0]);
  });

  it('--verbose names each file it would store, new (+) or changed (M); the text says nothing was stored', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(data);
    await writeFile(join(data, 'a.txt'), 'a');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    assert.equal(cli(['backup', '--repo', repo, data]).code, 0);
    await writeFile(join(data, 'a.txt'), 'a, edited');
    await writeFile(join(data, 'b.txt'), 'b');
    const r = cli(['backup', '--repo', repo, data, '--dry-run', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((l) => /^[+M] /.test(l)).sort(), [`+ ${join(data, 'b.txt')} (1 B)`, `M ${join(data, 'a.txt')} (9 B)`]);
    assert.match(r.stdout, /^would store: 1 new, 1 changed files; 0 unchanged; /m);
    assert.match(r.stdout, /^dry run: nothing was stored, no snapshot saved$/m);
  });

  it('refuses a stream and --verbose without --dry-run, as usage errors', async (t) => {
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const stream = cli(['backup', '--repo', repo, '--dry-run', '--stdin-from-command', '--', 'true']);
    assert.equal(stream.code, 2);
    assert.equal(stream.stderr, 'driveseed: --dry-run backs up paths, not a stream (leave out --stdin / --stdin-from-command)\n');
    const verbose = cli(['backup', '--repo', repo, dir, '--verbose']);
    assert.equal(verbose.code, 2);
    assert.equal(verbose.stderr, 'driveseed: --verbose goes with --dry-run\n');
  });
});
