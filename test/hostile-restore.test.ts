import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Repository } from '../src/core/repo/repository.js';
import type { Id } from '../src/core/repo/ids.js';
import { FsStore } from '../src/core/storage/fs/fs-store.js';
import { MemoryStore } from '../src/core/storage/memory/memory-store.js';
import { backup } from '../src/core/backup/archiver.js';
import { restore } from '../src/core/backup/restorer.js';
import { cli, json, PASSWORD, tempDir } from './cli-harness.js';

/*
 * Whoever holds a repository's key can write any tree: a restore reads trees as hostile and
 * never writes outside --target (issue 15, item 6).
 */

interface Crafted {
  repo: string;
  target: string;
  /** A directory outside the target that a hostile tree aims at: must stay empty. */
  elsewhere: string;
}

/** A repository whose one real backup gives a data blob that crafted trees point their files at. */
async function repositoryWithData(t: any): Promise<Crafted & { content: Id[] }> {
  const dir = await tempDir(t, 'driveseed-hostile-restore-');
  const repo = join(dir, 'repo');
  const data = join(dir, 'data');
  await mkdir(data);
  await writeFile(join(data, 'payload'), 'written by a hostile tree\n');
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  json(cli(['backup', '--repo', repo, data, '--json']));
  const opened = await Repository.open(new FsStore(repo), PASSWORD);
  await opened.loadIndex();
  const snapshot = (await opened.listSnapshots())[0];
  const content = await fileContent(opened, snapshot.tree, [...data.split('/').filter(Boolean), 'payload']);
  const elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere);
  return { repo, target: join(dir, 'target'), elsewhere, content };
}

async function fileContent(repo: Repository, tree: Id, path: string[]): Promise<Id[]> {
  const nodes = JSON.parse((await repo.loadBlob('tree', tree)).toString('utf8')).nodes as any[];
  const node = nodes.find((n) => n.name === path[0]);
  return path.length === 1 ? node.content : fileContent(repo, node.subtree, path.slice(1));
}

/** Stores `nodes` as they are (unsorted, unchecked: as a hostile writer would) and a snapshot of them. */
async function snapshotOfNodes(repoDir: string, nodes: unknown[]): Promise<void> {
  const repo = await Repository.open(new FsStore(repoDir), PASSWORD);
  await repo.loadIndex();
  const tree = await repo.saveBlob('tree', Buffer.from(JSON.stringify({ nodes }), 'utf8'));
  await repo.flush();
  await repo.saveSnapshot({
    version: 1,
    time: new Date(Date.now() + 60_000).toISOString(),
    tree,
    paths: ['/'],
    hostname: 'h',
    username: 'u',
    tags: [],
    excludes: [],
  });
}

const meta = { mode: 0o644, mtimeNs: '1700000000000000000', uid: 0, gid: 0 };

function fileNode(name: unknown, content: Id[]) {
  return { ...meta, name, type: 'file', size: 26, content };
}

async function assertEmpty(dir: string): Promise<void> {
  assert.deepEqual(await readdir(dir), [], `${dir} must stay untouched`);
}

/** With `--overwrite always`: what is at a path in the target is replaced, so each planted link is met, never left aside. */
function restoreLatest(c: Crafted) {
  return cli(['restore', '--repo', c.repo, 'latest', '--target', c.target, '--overwrite', 'always']);
}

describe('restore never leaves --target', () => {
  it('refuses a file named x/evil beside a symlink x → elsewhere, with one CORRUPT line', async (t) => {
    const c = await repositoryWithData(t);
    await snapshotOfNodes(c.repo, [{ ...meta, name: 'x', type: 'symlink', linkTarget: c.elsewhere }, fileNode('x/evil', c.content)]);
    const r = restoreLatest(c);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^driveseed: tree [0-9a-f]{64}: node name "x\/evil" is not a file name\n$/);
    await assertEmpty(c.elsewhere);
  });

  it('refuses two nodes of one name: a symlink x → elsewhere and a directory x holding evil', async (t) => {
    const c = await repositoryWithData(t);
    const repo = await Repository.open(new FsStore(c.repo), PASSWORD);
    await repo.loadIndex();
    const inner = await repo.saveBlob('tree', Buffer.from(JSON.stringify({ nodes: [fileNode('evil', c.content)] })));
    await repo.flush();
    await snapshotOfNodes(c.repo, [
      { ...meta, name: 'x', type: 'symlink', linkTarget: c.elsewhere },
      { ...meta, mode: 0o755, name: 'x', type: 'dir', subtree: inner },
    ]);
    const r = restoreLatest(c);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^driveseed: tree [0-9a-f]{64}: node name "x" appears twice\n$/);
    await assertEmpty(c.elsewhere);
  });

  for (const [label, name, message] of [
    ['..', '..', /node name "\.\." is not a file name/],
    ['.', '.', /node name "\." is not a file name/],
    ['a name with NUL', 'a\u0000b', /node name "a\\u0000b" is not a file name/],
    ['an empty name', '', /node name "" is not a file name/],
    ['a number for a name', 42, /a node's name is not a string/],
    ['no name', undefined, /a node's name is not a string/],
  ] as const) {
    it(`refuses ${label} with one CORRUPT line, not "unexpected error"`, async (t) => {
      const c = await repositoryWithData(t);
      await snapshotOfNodes(c.repo, [fileNode(name, c.content)]);
      const r = restoreLatest(c);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.match(r.stderr, /^driveseed: tree [0-9a-f]{64}: /);
      assert.match(r.stderr, message);
    });
  }

  it('refuses a node of an unknown type, and a directory without its subtree', async (t) => {
    const c = await repositoryWithData(t);
    await snapshotOfNodes(c.repo, [{ ...meta, name: 'fifo', type: 'fifo' }]);
    assert.match(restoreLatest(c).stderr, /^driveseed: tree [0-9a-f]{64}: node "fifo" has unknown type "fifo"\n$/);
    await snapshotOfNodes(c.repo, [{ ...meta, name: 'd', type: 'dir' }]);
    assert.match(restoreLatest(c).stderr, /^driveseed: tree [0-9a-f]{64}: dir node "d" lacks its subtree\n$/);
  });

  it('does not write through a symlink an earlier restore into the same target made', async (t) => {
    // Two honest snapshots: in the first, data/x is a link to elsewhere; in the second, a directory.
    const dir = await tempDir(t, 'driveseed-hostile-restore-');
    const repo = join(dir, 'repo');
    const data = join(dir, 'data');
    const elsewhere = join(dir, 'elsewhere');
    const target = join(dir, 'target');
    await mkdir(data);
    await mkdir(elsewhere);
    await symlink(elsewhere, join(data, 'x'));
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const first = json(cli(['backup', '--repo', repo, data, '--json']));
    await rm(join(data, 'x'));
    await mkdir(join(data, 'x'));
    await writeFile(join(data, 'x', 'evil'), 'not for elsewhere\n');
    await writeFile(join(data, 'kept'), 'restored\n');
    const second = json(cli(['backup', '--repo', repo, data, '--json']));

    assert.equal(cli(['restore', '--repo', repo, first.snapshotId, '--target', target]).code, 0);
    const r = cli(['restore', '--repo', repo, second.snapshotId, '--target', target]);
    assert.equal(r.code, 1, 'a path not restored is a failure');
    assert.match(r.stderr, /x exists and is not a directory: nothing restored below it/);
    await assertEmpty(elsewhere);
    assert.equal(await readFile(join(target, data, 'kept'), 'utf8'), 'restored\n', 'the rest is restored');
  });

  it('does not open a file through a symlink already at its path', async (t) => {
    const c = await repositoryWithData(t);
    await snapshotOfNodes(c.repo, [fileNode('evil', c.content)]);
    await mkdir(c.target);
    await symlink(join(c.elsewhere, 'evil'), join(c.target, 'evil'));
    const r = restoreLatest(c);
    assert.equal(r.code, 1, r.stderr);
    await assertEmpty(c.elsewhere);
  });

  it('does not open a file through a symlink at its path when the packs are remote either', async (t) => {
    const dir = await tempDir(t, 'driveseed-hostile-restore-');
    const data = join(dir, 'data');
    const elsewhere = join(dir, 'elsewhere');
    const target = join(dir, 'target');
    await mkdir(data);
    await mkdir(elsewhere);
    await writeFile(join(data, 'evil'), 'not for elsewhere\n');
    const repo = await Repository.init(new MemoryStore(), PASSWORD);
    await backup(repo, { paths: [data], threads: 1 });
    await mkdir(join(target, data), { recursive: true });
    await symlink(join(elsewhere, 'evil'), join(target, data, 'evil'));
    const result = await restore(repo, (await repo.listSnapshots())[0], { target, overwrite: 'always' });
    assert.deepEqual(
      result.warnings.map((w) => w.path),
      [join(data, 'evil')],
    );
    await assertEmpty(elsewhere);
    // By default (never) the link is left where it is, and nothing is written through it either.
    const kept = await restore(repo, (await repo.listSnapshots())[0], { target });
    assert.deepEqual(kept.warnings, []);
    assert.equal(kept.skipped, 1);
    await assertEmpty(elsewhere);
  });
});
