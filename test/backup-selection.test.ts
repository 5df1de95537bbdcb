import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './cli-harness.js';

const SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

/** Every path of the latest snapshot, relative to `data`. */
function listed(repo: string, data: string): string[] {
  const r = cli(['ls', '--repo', repo, 'latest', data]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(/\s+/).pop()!)
    .filter((p) => p.startsWith(`${data}/`))
    .map((p) => p.slice(data.length + 1))
    .sort();
}

describe('backup: what is selected (issue 18)', () => {
  it('--exclude-file reads one pattern a line, skipping comments and blank lines', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(join(data, 'build'), { recursive: true });
    await writeFile(join(data, 'keep.txt'), 'k');
    await writeFile(join(data, 'skip.tmp'), 't');
    await writeFile(join(data, 'build', 'out.o'), 'o');
    await writeFile(join(dir, 'excludes'), '# build products\n*.tmp\n\n  build  \n');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const r = cli(['backup', '--repo', repo, data, '--exclude-file', join(dir, 'excludes')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listed(repo, data), ['keep.txt']);
    const missing = cli(['backup', '--repo', repo, data, '--exclude-file', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `driveseed: cannot read exclude file ${join(dir, 'nope')}: ENOENT\n`);
  });

  it('--exclude-caches leaves out what a tagged directory holds, keeping the tag; a tag without the signature tags nothing', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(join(data, 'cache', 'sub'), { recursive: true });
    await mkdir(join(data, 'fake'), { recursive: true });
    await writeFile(join(data, 'cache', 'CACHEDIR.TAG'), `${SIGNATURE}\n# This file is a cache directory tag.\n`);
    await writeFile(join(data, 'cache', 'blob'), 'b');
    await writeFile(join(data, 'cache', 'sub', 'more'), 'm');
    await writeFile(join(data, 'fake', 'CACHEDIR.TAG'), 'not the signature\n');
    await writeFile(join(data, 'fake', 'kept'), 'k');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    assert.equal(cli(['backup', '--repo', repo, data]).code, 0);
    assert.ok(listed(repo, data).includes('cache/blob'), 'without the flag, caches are backed up');
    const r = cli(['backup', '--repo', repo, data, '--exclude-caches']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listed(repo, data), ['cache/', 'cache/CACHEDIR.TAG', 'fake/', 'fake/CACHEDIR.TAG', 'fake/kept']);
  });

  it('--one-file-system keeps a mount point below the paths but not what is mounted there', async (t) => {
    // /dev is its own file system (devtmpfs) on Linux, /dev/shm another (tmpfs): a real mount point without root.
    if (statSync('/dev').dev === statSync('/dev/shm').dev) return t.skip('no separate file system at /dev/shm here');
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    const probe = join('/dev/shm', `driveseed-onefs-${process.pid}`);
    await writeFile(probe, 'p');
    t.after(() => import('node:fs/promises').then((fs) => fs.rm(probe, { force: true })));
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const shm = () => cli(['ls', '--repo', repo, 'latest', '/dev/shm']).stdout;
    // Without the flag the walk goes into /dev/shm: the probe is in the snapshot.
    const across = cli(['backup', '--repo', repo, '/dev/shm']);
    assert.ok(across.code === 0 || across.code === 3, across.stderr);
    assert.match(shm(), /driveseed-onefs/);
    const r = cli(['backup', '--repo', repo, '/dev', '--one-file-system']);
    assert.ok(r.code === 0 || r.code === 3, r.stderr);
    const ls = cli(['ls', '--repo', repo, 'latest', '/dev']);
    assert.match(ls.stdout, /^\/dev\/shm\/$/m, 'the mount point is kept');
    assert.doesNotMatch(shm(), /driveseed-onefs/, 'what is mounted there is not');
  });
});
