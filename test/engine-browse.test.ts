import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

/** A repository with two snapshots of one tree, the second after additions, removals, edits and a type change. */
async function twoSnapshots(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const data = join(dir, 'data');
  const repo = join(dir, 'repo');
  await mkdir(join(data, 'gone'), { recursive: true });
  await mkdir(join(data, 'logs'), { recursive: true });
  await writeFile(join(data, 'same.txt'), 'same');
  await writeFile(join(data, 'edited.txt'), 'before');
  await writeFile(join(data, 'gone', 'a.gz'), Buffer.alloc(5000, 1));
  await writeFile(join(data, 'logs', 'x.log'), 'log');
  await writeFile(join(data, 'becomes-dir'), 'a file first');
  await symlink('same.txt', join(data, 'link'));
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  const first = json(cli(['backup', '--repo', repo, data, '--json'])).snapshotId as string;
  await rm(join(data, 'gone'), { recursive: true });
  await rm(join(data, 'becomes-dir'));
  await mkdir(join(data, 'becomes-dir'));
  await writeFile(join(data, 'becomes-dir', 'inside.gz'), Buffer.alloc(7000, 2));
  await writeFile(join(data, 'edited.txt'), 'after the edit');
  await mkdir(join(data, 'new', 'deep'), { recursive: true });
  await writeFile(join(data, 'new', 'deep', 'b.gz'), Buffer.alloc(9000, 3));
  const second = json(cli(['backup', '--repo', repo, data, '--json'])).snapshotId as string;
  return { dir, data, repo, first, second };
}

describe('diff, find and stats (issue 18)', () => {
  it('diff lists + - M T in tree order, with restic’s summary; --json gives the same as one document', async (t) => {
    const s = await twoSnapshots(t);
    const r = cli(['diff', '--repo', s.repo, s.first.slice(0, 8), s.second]);
    assert.equal(r.code, 0, r.stderr);
    const changes = r.stdout.split('\n').filter((l) => /^[-+MTU] {4}/.test(l));
    const d = s.data;
    assert.deepEqual(changes, [
      `T    ${d}/becomes-dir/`,
      `+    ${d}/becomes-dir/inside.gz`,
      `M    ${d}/edited.txt`,
      `-    ${d}/gone/`,
      `-    ${d}/gone/a.gz`,
      `+    ${d}/new/`,
      `+    ${d}/new/deep/`,
      `+    ${d}/new/deep/b.gz`,
    ]);
    assert.match(r.stdout, /^Files: +2 new, +1 removed, +1 changed$/m);
    assert.match(r.stdout, /^Dirs: +2 new, +1 removed$/m);
    const doc = json(cli(['diff', '--repo', s.repo, s.first, s.second, '--json']));
    assert.deepEqual([doc.first, doc.second], [s.first, s.second]);
    assert.equal(doc.changes.length, changes.length);
    assert.deepEqual(doc.changes[1], { path: `${d}/becomes-dir/inside.gz`, modifier: '+', type: 'file' });
    assert.deepEqual(doc.summary.files, { new: 2, removed: 1, changed: 1 });
    // Added: the two new files' bytes and the edit (14) and the new trees; removed: a.gz (5000), the old text (6), a file's worth (12), the old trees.
    assert.ok(doc.summary.bytesAdded >= 7000 + 9000 + 14, JSON.stringify(doc.summary));
    assert.ok(doc.summary.bytesRemoved >= 5000 + 6 + 12 && doc.summary.bytesRemoved < 7000, JSON.stringify(doc.summary));
    assert.equal(doc.summary.dataBlobs.new, 3);
    assert.equal(doc.summary.dataBlobs.removed, 3);

    // A snapshot against itself: nothing differs and no blob is unique to either side.
    const none = json(cli(['diff', '--repo', s.repo, s.second, 'latest', '--json']));
    assert.deepEqual(none.changes, []);
    assert.deepEqual([none.summary.bytesAdded, none.summary.bytesRemoved], [0, 0]);
    const bad = cli(['diff', '--repo', s.repo, s.first, 'ffffffff']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'driveseed: no snapshot matches "ffffffff" (list them with `driveseed snapshots`)\n');
  });

  it('find matches names or whole paths with restore’s rule, snapshot by snapshot; nothing found is said', async (t) => {
    const s = await twoSnapshots(t);
    const r = cli(['find', '--repo', s.repo, '*.gz']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^found in snapshot ${s.first.slice(0, 8)} of `));
    assert.deepEqual(lines.slice(1, 2), [`${s.data}/gone/a.gz`]);
    assert.match(lines[3], new RegExp(`^found in snapshot ${s.second.slice(0, 8)} of `));
    assert.deepEqual(lines.slice(4), [`${s.data}/becomes-dir/inside.gz`, `${s.data}/new/deep/b.gz`]);

    const byPath = json(cli(['find', '--repo', s.repo, `${s.data}/new/**`, 'logs', '--snapshot', 'latest', '--json']));
    assert.deepEqual(
      byPath.map((m: { path: string; snapshot: string; type: string }) => [m.snapshot, m.path, m.type]),
      [
        [s.second, `${s.data}/logs`, 'dir'],
        [s.second, `${s.data}/new/deep`, 'dir'],
        [s.second, `${s.data}/new/deep/b.gz`, 'file'],
      ],
    );
    const none = cli(['find', '--repo', s.repo, 'nothing-like-this']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'nothing matches in 2 snapshots\n');
    assert.deepEqual(json(cli(['find', '--repo', s.repo, 'nothing-like-this', '--json'])), []);
    const empty = cli(['find', '--repo', s.repo, '']);
    assert.equal(empty.code, 2);
  });

  it('stats: restore-size sums what restores write; raw-data counts each distinct blob once, stored and plaintext', async (t) => {
    const s = await twoSnapshots(t);
    const first = json(cli(['stats', '--repo', s.repo, s.first, '--json']));
    assert.deepEqual(first, { mode: 'restore-size', snapshots: 1, files: 5, dirs: first.dirs, others: 1, bytes: 4 + 6 + 5000 + 3 + 12 });
    const second = json(cli(['stats', '--repo', s.repo, 'latest', '--json']));
    assert.equal(second.bytes, 4 + 14 + 3 + 7000 + 9000);
    const all = json(cli(['stats', '--repo', s.repo, '--json']));
    assert.deepEqual([all.snapshots, all.files, all.bytes], [2, first.files + second.files, first.bytes + second.bytes]);

    const raw = json(cli(['stats', '--repo', s.repo, '--mode', 'raw-data', '--json']));
    assert.equal(raw.snapshots, 2);
    // Data: same, log, before, a.gz, the file that became a dir, after, inside.gz, b.gz — "same" once for both snapshots.
    assert.equal(raw.dataBlobs, 8);
    assert.ok(raw.rawBytes >= 4 + 6 + 5000 + 3 + 12 + 14 + 7000 + 9000, JSON.stringify(raw));
    // Runs of one byte value compress far below their size.
    assert.ok(raw.storedBytes < raw.rawBytes, JSON.stringify(raw));
    assert.equal(raw.missing, 0);
    const text = cli(['stats', '--repo', s.repo, '--mode', 'raw-data']);
    assert.match(text.stdout, /^ +total blob count: +\d+ \(8 data, \d+ tree\)$/m);
    assert.equal(cli(['stats', '--repo', s.repo, '--mode', 'sizes']).code, 2);
  });
});
