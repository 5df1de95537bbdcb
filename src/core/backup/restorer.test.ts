import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository } from '../repo/repository.js';
import type { ByteRange } from '../storage/blob-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { FsStore } from '../storage/fs/fs-store.js';
import { checkRepository } from '../repo/check.js';
import { backup } from './archiver.js';
import { compareTrees } from './compare-trees.js';
import { nsToDate, restore } from './restorer.js';
import { utimesSync, statSync } from 'node:fs';

/** A remote store as the restorer sees it: every read of a pack is one request. */
class RequestCountingStore extends MemoryStore {
  packReads = 0;
  failPack?: string;

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    if (name.startsWith('data/')) {
      this.packReads++;
      if (name === this.failPack) throw new Error(`${name}: connection reset`);
    }
    return super.get(name, range);
  }
}

async function smallFiles(dir: string, count: number): Promise<void> {
  for (let d = 0; d < 10; d++) {
    await mkdir(join(dir, `d${d}`), { recursive: true });
    for (let i = 0; i < count / 10; i++) await writeFile(join(dir, `d${d}`, `f${i}`), `file ${d}/${i} `.repeat(50 + i));
  }
}

describe('restore from a remote store', () => {
  it('reads the blobs of many small files by pack, in a few requests, and restores them exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-restore-'));
    try {
      const data = join(dir, 'data');
      await smallFiles(data, 400);
      // Files of many blobs, whose blobs are written at once: each one's bytes count.
      const large = randomBytes(6 * 1024 * 1024);
      await writeFile(join(data, 'large-a'), large);
      await writeFile(join(data, 'large-b'), Buffer.concat([large, large]));
      const store = new RequestCountingStore();
      const repo = await Repository.init(store, 'pw');
      const saved = await backup(repo, { paths: [data], threads: 2 });
      store.packReads = 0;
      const result = await restore(repo, (await repo.listSnapshots())[0], { target: join(dir, 'out') });
      assert.equal(result.files, 402);
      assert.equal(result.bytes, saved.summary.totalBytes);
      assert.deepEqual(await compareTrees(data, join(dir, 'out', data)), []);
      // One request per file would be 400; the small files share one pack.
      assert.ok(store.packReads <= 20, `${store.packReads} pack reads`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names each file whose pack cannot be read and restores the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-restore-'));
    try {
      const data = join(dir, 'data');
      await smallFiles(data, 20);
      await writeFile(
        join(data, 'big'),
        Buffer.alloc(20_000_000, 1).map((_, i) => (i * 2654435761) >>> 24),
      );
      const store = new RequestCountingStore();
      const repo = await Repository.init(store, 'pw');
      await backup(repo, { paths: [data], threads: 2 });
      // The pack holding the small files: the big file's 20 MB of noise fill packs of their own.
      const small = [...repo.index.allPacks()].find((p) => p.blobs.some((b) => b.rawLength < 10_000))!;
      store.failPack = `data/${small.id.slice(0, 2)}/${small.id}`;
      const warnings: string[] = [];
      const result = await restore(repo, (await repo.listSnapshots())[0], { target: join(dir, 'out'), onWarning: (path) => warnings.push(path) });
      assert.ok(warnings.length > 0, 'the files of the unreadable pack are named');
      assert.equal(result.files, 21 - warnings.length);
      const restoredPaths = (await readdir(data, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      assert.ok(restoredPaths.length - warnings.length > 0, 'some files come from other packs');
      for (const path of restoredPaths.filter((p) => !warnings.includes(p))) {
        assert.deepEqual(await readFile(join(dir, 'out', path)), await readFile(path), path);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('restored times', () => {
  it('come back to the microsecond, also on a millisecond boundary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-times-'));
    try {
      for (let k = 0; k < 500; k++) {
        const ns = (BigInt(1_700_000_000 + k * 977) * 1_000_000_000n + BigInt(k % 1000) * 1_000_000n + (k % 2 ? BigInt(k * 1000) : 0n)).toString();
        const t = nsToDate(ns);
        await writeFile(join(dir, 'f'), 'x');
        utimesSync(join(dir, 'f'), t, t);
        assert.equal(statSync(join(dir, 'f'), { bigint: true }).mtimeNs / 1000n, BigInt(ns) / 1000n, ns);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('restore and blob ids', () => {
  it('a blob a writer stored under the wrong id: restore --verify names the file, check --read-data finds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-restore-'));
    try {
      const data = join(dir, 'data');
      await mkdir(data);
      const right = Buffer.from('the content the file has\n'.repeat(100));
      const wrong = Buffer.from('other bytes, sealed under the first content id\n'.repeat(50));
      await writeFile(join(data, 'f'), right);
      const repo = await Repository.init(new FsStore(join(dir, 'repo')), 'pw');
      // A faulty writer: the right content's id, the wrong content, correctly sealed.
      const id = repo.blobId(right);
      assert.ok(repo.claim(id));
      await repo.addSealedBlob('data', id, repo.sealBlob('data', id, wrong), wrong.length);
      await repo.flush();
      await backup(repo, { paths: [data], threads: 1 });
      const snapshot = (await repo.listSnapshots())[0];

      const verified: string[] = [];
      const checked = await restore(repo, snapshot, { target: join(dir, 'verified'), verify: true, onWarning: (_path, message) => verified.push(message) });
      assert.equal(checked.files, 0);
      assert.equal(verified.length, 1);
      assert.match(verified[0], /content does not match its id/);

      // Without --verify the authenticated decryption is the check: what the key holder sealed comes back.
      const plain = await restore(repo, snapshot, { target: join(dir, 'plain') });
      assert.deepEqual(plain.warnings, []);
      assert.deepEqual(await readFile(join(dir, 'plain', data, 'f')), wrong);

      const report = await checkRepository(repo, { readData: true });
      assert.ok(
        report.problems.some((p) => p.message.includes('does not match')),
        JSON.stringify(report.problems),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
