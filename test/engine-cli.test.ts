import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, readFile, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { BIN, cli, json, PASSWORD, tempDir } from './cli-harness.js';

async function repoWithBackup(t: any) {
  const dir = await tempDir(t);
  const data = join(dir, 'data');
  const repo = join(dir, 'repo');
  await writeSampleTree(data, 7, 60);
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  const first = json(cli(['backup', '--repo', repo, data, '--json']));
  return { dir, data, repo, first };
}

describe('engine CLI', () => {
  it('backs up, lists and restores byte for byte at the full original path', async (t) => {
    const { dir, data, repo, first } = await repoWithBackup(t);
    assert.match(first.snapshotId, /^[0-9a-f]{64}$/);
    assert.equal(first.filesNew, 62);
    assert.ok(first.bytesAdded > 0 && first.durationMs >= 0 && first.bytesRead > 0);

    const snaps = json(cli(['snapshots', '--repo', repo, '--json']));
    assert.equal(snaps.length, 1);
    assert.deepEqual(snaps[0].paths, [data]);

    const ls = cli(['ls', '--repo', repo, first.snapshotId.slice(0, 8), data]);
    assert.equal(ls.code, 0);
    assert.ok(ls.stdout.includes(join(data, 'large.bin')));

    const target = join(dir, 'restore');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', target]).code, 0);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
  });

  it('keeps modes, mtimes, symlinks and empty directories', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    await mkdir(join(data, 'empty', 'nested'), { recursive: true });
    await writeFile(join(data, 'script.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(data, 'script.sh'), 0o750);
    await utimes(join(data, 'script.sh'), 1_000_000, 1_234_567.891);
    await symlink('/nonexistent/target', join(data, 'dangling'));
    await chmod(join(data, 'empty'), 0o700);
    const repo = join(dir, 'repo');
    cli(['init', '--repo', repo]);
    assert.equal(cli(['backup', '--repo', repo, data]).code, 0);
    const target = join(dir, 'out');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', target]).code, 0);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
  });

  it('does not read unchanged files again and stores only what changed', async (t) => {
    const { data, repo } = await repoWithBackup(t);
    const unchanged = json(cli(['backup', '--repo', repo, data, '--json']));
    assert.equal(unchanged.filesUnchanged, 62);
    assert.equal(unchanged.bytesRead, 0);
    await appendFile(join(data, 'dir2', 'sub2', 'file2.txt'), 'one more line\n');
    const changed = json(cli(['backup', '--repo', repo, data, '--json']));
    assert.equal(changed.filesChanged, 1);
    assert.ok(changed.bytesAdded < 200_000, `added ${changed.bytesAdded}`);
  });

  it('stores only a few chunks after an insertion at the start of a large file', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    await mkdir(data);
    const big = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
    await writeFile(join(data, 'big'), big);
    const repo = join(dir, 'repo');
    cli(['init', '--repo', repo]);
    const first = json(cli(['backup', '--repo', repo, data, '--json']));
    await writeFile(join(data, 'big'), Buffer.concat([Buffer.from('inserted!'), big]));
    const second = json(cli(['backup', '--repo', repo, data, '--json']));
    assert.ok(second.bytesAdded < first.bytesAdded * 0.15, `second added ${second.bytesAdded} of ${first.bytesAdded}`);
  });

  it('restores only what --include selects', async (t) => {
    const { dir, data, repo } = await repoWithBackup(t);
    const target = join(dir, 'partial');
    assert.equal(cli(['restore', '--repo', repo, 'latest', '--target', target, '--include', `${data}/dir3/**`]).code, 0);
    assert.deepEqual(await readdir(join(target, data)), ['dir3']);
    assert.deepEqual(await compareTrees(join(data, 'dir3'), join(target, data, 'dir3')), []);
  });

  it('refuses a wrong password with one line and exit 1, touching nothing', async (t) => {
    const { repo } = await repoWithBackup(t);
    const before = await readdir(repo, { recursive: true });
    const r = cli(['snapshots', '--repo', repo], { DRIVESEED_PASSWORD: 'wrong' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /wrong password/);
    assert.deepEqual(await readdir(repo, { recursive: true }), before);
  });

  it('says clearly when the location is not a repository or of a newer version', async (t) => {
    const dir = await tempDir(t);
    const r = cli(['snapshots', '--repo', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a driveseed repository/);
    const { repo } = await repoWithBackup(t);
    const config = JSON.parse(await readFile(join(repo, 'config'), 'utf8'));
    await writeFile(join(repo, 'config'), JSON.stringify({ ...config, version: 99 }));
    const newer = cli(['snapshots', '--repo', repo]);
    assert.equal(newer.code, 1);
    assert.match(newer.stderr, /format version 99/);
  });

  it('refuses to init over an existing repository', async (t) => {
    const { repo } = await repoWithBackup(t);
    const r = cli(['init', '--repo', repo]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds a repository/);
  });

  it('finishes quietly when the reader of its output goes away (| head)', async (t) => {
    const { repo, data } = await repoWithBackup(t);
    // A pipe closed before the JSON summary is written: the backup is still saved and unlocked.
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" backup --repo "${repo}" "${data}" --json | true`], {
      env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD },
      encoding: 'utf8',
    });
    assert.doesNotMatch(r.stderr, /EPIPE|Error:/);
    assert.equal(json(cli(['snapshots', '--repo', repo, '--json'])).length, 2);
    assert.equal(cli(['check', '--repo', repo]).code, 0);
  });

  it('exits 2 on bad usage and 0 on --help', () => {
    assert.equal(cli(['backup']).code, 2);
    assert.equal(cli(['no-such-command']).code, 2);
    assert.equal(cli(['backup', '--help']).code, 0);
    const noPassword = cli(['snapshots', '--repo', '/tmp'], { DRIVESEED_PASSWORD: '' });
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /DRIVESEED_PASSWORD/);
  });

  it('warns about unreadable files, saves the rest and exits 3', async (t) => {
    const { dir, data, repo } = await repoWithBackup(t);
    const unreadable = join(data, 'dir0', 'sub0', 'file0.bin');
    await appendFile(unreadable, 'changed, so the next backup must read it');
    await chmod(unreadable, 0);
    // root reads every file: run this backup as an unprivileged user, as a real agent might.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    if (asUser.length) {
      execFileSync('chmod', ['-R', 'a+rwX', dir]);
      await chmod(unreadable, 0);
      await chmod(dir, 0o777);
    }
    const r = spawnSync(
      asUser[0] ?? process.execPath,
      [...asUser.slice(1), ...(asUser.length ? [process.execPath] : []), BIN, 'backup', '--repo', repo, data, '--json'],
      {
        env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 3, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.warnings.length, 1);
    assert.equal(out.warnings[0].path, unreadable);
    assert.match(out.warnings[0].message, /EACCES/);
    const snaps = json(cli(['snapshots', '--repo', repo, '--json']));
    assert.equal(snaps.length, 2, 'the rest was saved as a snapshot');
    assert.equal(cli(['check', '--repo', repo]).code, 0);
  });
});
