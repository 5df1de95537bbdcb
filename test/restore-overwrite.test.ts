import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

/** A repository with one snapshot of a small tree: notes.txt, logs/a.gz, logs/deep/b.gz, src/main.c, src/empty/. */
async function snapshotOfTree(t: any) {
  const dir = await tempDir(t);
  const data = join(dir, 'data');
  const repo = join(dir, 'repo');
  await mkdir(join(data, 'logs', 'deep'), { recursive: true });
  await mkdir(join(data, 'src', 'empty'), { recursive: true });
  await writeFile(join(data, 'notes.txt'), 'original notes\n');
  await writeFile(join(data, 'logs', 'a.gz'), 'gz a');
  await writeFile(join(data, 'logs', 'deep', 'b.gz'), 'gz b');
  await writeFile(join(data, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  assert.equal(cli(['backup', '--repo', repo, data]).code, 0);
  const target = join(dir, 'target');
  /** A path of the tree as restored under the target (restores keep full original paths). */
  const restored = (...parts: string[]) => join(target, data, ...parts);
  const restore = (...args: string[]) => cli(['restore', '--repo', repo, 'latest', '--target', target, ...args]);
  return { dir, data, repo, target, restored, restore };
}

describe('restore: what it does with what is already there, dry runs, and one matching rule (issue 18)', () => {
  it('by default leaves a file already in the target as it is, says so, and restores what is missing', async (t) => {
    const s = await snapshotOfTree(t);
    assert.equal(s.restore().code, 0);
    await writeFile(s.restored('notes.txt'), 'my local edit\n');
    await writeFile(s.restored('src', 'main.c'), '', { flag: 'w' });
    const r = s.restore();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(s.restored('notes.txt'), 'utf8'), 'my local edit\n', 'the local edit is kept');
    assert.match(
      r.stdout,
      /^restored 0 files, .*\n4 paths already in the target were left as they were \(--overwrite never; --overwrite if-changed or always replaces them\)\n$/,
    );
    const always = s.restore('--overwrite', 'always');
    assert.equal(always.code, 0, always.stderr);
    assert.equal(await readFile(s.restored('notes.txt'), 'utf8'), 'original notes\n');
    assert.equal(await readFile(s.restored('src', 'main.c'), 'utf8'), 'int main(void) { return 0; }\n');
    assert.match(always.stdout, /^restored 4 files, /);
  });

  it('if-changed replaces only what differs from the snapshot; if-newer only what is older than it', async (t) => {
    const s = await snapshotOfTree(t);
    assert.equal(s.restore().code, 0);
    await writeFile(s.restored('notes.txt'), 'edited\n');
    const changed = json(s.restore('--overwrite', 'if-changed', '--json'));
    assert.equal(changed.files, 1, 'only the edited file is rewritten');
    assert.equal(changed.skipped, 3);
    assert.equal(await readFile(s.restored('notes.txt'), 'utf8'), 'original notes\n');

    // A local edit is newer than the snapshot: if-newer keeps it; a file older than the snapshot is replaced.
    await writeFile(s.restored('notes.txt'), 'edited again\n');
    await writeFile(s.restored('logs', 'a.gz'), 'old local copy');
    const old = new Date('2001-01-01T00:00:00Z');
    await utimes(s.restored('logs', 'a.gz'), old, old);
    const newer = json(s.restore('--overwrite', 'if-newer', '--json'));
    assert.equal(newer.files, 1);
    assert.equal(await readFile(s.restored('notes.txt'), 'utf8'), 'edited again\n');
    assert.equal(await readFile(s.restored('logs', 'a.gz'), 'utf8'), 'gz a');
  });

  it('--dry-run lists what it would restore and leave, and writes nothing, not even the target', async (t) => {
    const s = await snapshotOfTree(t);
    const first = s.restore('--dry-run');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(existsSync(s.target), false, 'nothing written');
    const lines = first.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(0, -1).sort(),
      ['logs/a.gz', 'logs/deep/b.gz', 'notes.txt', 'src/main.c'].map((p) => `would restore  ${join(s.data, p)}`),
    );
    const planned = /^would restore 4 files, (\d+) directories, 0 symlinks \((\d+) B\) from [0-9a-f]{8}$/.exec(lines.at(-1)!);
    assert.ok(planned, lines.at(-1));

    const real = s.restore();
    assert.equal(real.code, 0);
    assert.match(
      real.stdout,
      new RegExp(`^restored 4 files, ${planned[1]} directories, 0 symlinks \\(${planned[2]} B\\) `),
      'the dry run said what the restore did',
    );
    await writeFile(s.restored('notes.txt'), 'mine\n');
    const before = (await stat(s.restored('notes.txt'))).mtimeMs;
    const second = s.restore('--dry-run', '--overwrite', 'if-changed');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`^would restore  ${join(s.data, 'notes.txt')}$`, 'm'));
    assert.match(second.stdout, new RegExp(`^would leave    ${join(s.data, 'src', 'main.c')}$`, 'm'));
    assert.match(second.stdout, /^3 paths already in the target would be left as they were \(--overwrite if-changed; --overwrite always replaces them\)$/m);
    assert.equal(await readFile(s.restored('notes.txt'), 'utf8'), 'mine\n', 'the dry run changed nothing');
    assert.equal((await stat(s.restored('notes.txt'))).mtimeMs, before);
  });

  it('includes and excludes match a name at any depth or a whole path, and make no empty directories', async (t) => {
    const s = await snapshotOfTree(t);
    const gz = s.restore('--include', '*.gz');
    assert.equal(gz.code, 0, gz.stderr);
    assert.match(gz.stdout, /^restored 2 files, /);
    assert.equal(await readFile(s.restored('logs', 'deep', 'b.gz'), 'utf8'), 'gz b');
    assert.deepEqual(await readdir(s.restored()), ['logs'], 'no src/ made for nothing in it');

    const s2 = await snapshotOfTree(t);
    const r = s2.restore('--include', `${s2.data}/logs/**`, '--exclude', 'deep');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readdir(s2.restored('logs')), ['a.gz'], 'the excluded directory is left out with all below it');
    assert.equal(existsSync(s2.restored('notes.txt')), false);
  });

  it('refuses an --overwrite it does not know, before any work', async (t) => {
    const s = await snapshotOfTree(t);
    const r = s.restore('--overwrite', 'sometimes');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--overwrite <when>' argument 'sometimes' is invalid\. Allowed choices are always, if-changed, if-newer, never/);
    assert.equal(existsSync(s.target), false);
  });
});
