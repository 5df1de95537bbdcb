import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { Repository } from '../repo/repository.js';
import { chunkLengths, gearTable, MAX_CHUNK } from '../repo/chunker.js';
import { decodeTree, type TreeNode } from '../repo/tree.js';
import type { Id } from '../repo/ids.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { backup } from './archiver.js';

async function nodesAt(repo: Repository, root: Id, path: string): Promise<TreeNode[]> {
  let tree = decodeTree(await repo.loadBlob('tree', root), 'root');
  for (const part of path.split(sep).filter(Boolean)) {
    const node = tree.nodes.find((n) => n.name === part)!;
    tree = decodeTree(await repo.loadBlob('tree', node.subtree!), part);
  }
  return tree.nodes;
}

describe('archiver', () => {
  it("takes a new file's metadata from the worker's fstat, equal to what lstat says, and finds it unchanged next time", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-archiver-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'a.txt'), 'hello');
      await writeFile(join(dir, 'sub', 'b.bin'), Buffer.alloc(300_000, 7), { mode: 0o640 });
      await writeFile(join(dir, 'empty'), '');
      await symlink('a.txt', join(dir, 'link'));
      const repo = await Repository.init(new MemoryStore(), 'pw');
      const first = await backup(repo, { paths: [dir], threads: 2 });
      assert.equal(first.summary.filesNew, 3);
      for (const [path, name] of [
        [dir, 'a.txt'],
        [join(dir, 'sub'), 'b.bin'],
        [dir, 'empty'],
      ] as const) {
        const node = (await nodesAt(repo, first.snapshot.tree, path)).find((n) => n.name === name)!;
        const st = await lstat(join(path, name), { bigint: true });
        // Key order matters too: equal directories must encode to equal tree blobs.
        assert.deepEqual(Object.keys(node), ['name', 'mode', 'mtimeNs', 'uid', 'gid', 'type', 'inode', 'dev', 'size', 'content']);
        assert.deepEqual(
          { mode: node.mode, mtimeNs: node.mtimeNs, uid: node.uid, gid: node.gid, inode: node.inode, dev: node.dev, size: node.size },
          {
            mode: Number(st.mode & 0o7777n),
            mtimeNs: st.mtimeNs.toString(),
            uid: Number(st.uid),
            gid: Number(st.gid),
            inode: Number(st.ino),
            dev: Number(st.dev),
            size: Number(st.size),
          },
        );
      }
      const link = (await nodesAt(repo, first.snapshot.tree, dir)).find((n) => n.name === 'link')!;
      assert.equal(link.type, 'symlink');
      const second = await backup(repo, { paths: [dir], threads: 2 });
      assert.equal(second.summary.filesUnchanged, 3);
      // The directory's own tree is the same blob (the root's is not: /tmp's mtime moves).
      assert.deepEqual(await nodesAt(repo, second.snapshot.tree, dir), await nodesAt(repo, first.snapshot.tree, dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cuts files as the whole-buffer chunker does, across read-buffer refills, file ends and long stretches without a cut', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-archiver-'));
    try {
      const random = randomBytes(21 * 1024 * 1024);
      // On zeros the gear hash settles on one value, which hardly ever cuts: forced maximal chunks.
      const files: Record<string, Buffer> = {
        random: random,
        zeros: Buffer.alloc(3 * MAX_CHUNK + 12345),
        mixed: Buffer.concat([random.subarray(0, 5_000_000), Buffer.alloc(9_000_000), random.subarray(5_000_000, 11_000_000)]),
        small: random.subarray(0, 100_000),
        exact: random.subarray(0, MAX_CHUNK),
      };
      for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
      const repo = await Repository.init(new MemoryStore(), 'pw');
      const result = await backup(repo, { paths: [dir], threads: 2 });
      const gear = gearTable(repo.key.chunkerSeed);
      for (const node of await nodesAt(repo, result.snapshot.tree, dir)) {
        const data = await readFile(join(dir, node.name));
        let at = 0;
        const expected = chunkLengths(gear, data).map((len) => repo.blobId(data.subarray(at, (at += len))));
        assert.deepEqual(node.content, expected, node.name);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
