import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository } from '../repo/repository.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { BlobData } from '../storage/blob-store.js';
import { PACK_BUFFER_SIZE } from '../repo/pack.js';
import { chunkLengths, gearTable } from '../repo/chunker.js';
import { stat } from 'node:fs/promises';
import { ChunkPool } from './chunk-pool.js';

/** A store whose pack uploads are slow, and which records how many run at once. */
class SlowPackStore extends MemoryStore {
  uploading = 0;
  maxUploading = 0;
  packs = 0;

  override async put(name: string, data: BlobData): Promise<void> {
    if (!name.startsWith('data/')) return super.put(name, data);
    // fetch (the service client) and the Azure SDK refuse views of shared memory.
    for (const part of Array.isArray(data) ? data : [data]) assert.ok(!((part as Uint8Array).buffer instanceof SharedArrayBuffer), 'a pack in shared memory');
    this.packs++;
    this.maxUploading = Math.max(this.maxUploading, ++this.uploading);
    try {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await super.put(name, data);
    } finally {
      this.uploading--;
    }
  }
}

/** A store on which every pack upload fails. */
class FailingPackStore extends MemoryStore {
  override async put(name: string, data: BlobData): Promise<void> {
    if (name.startsWith('data/')) throw new Error('the link went down');
    return super.put(name, data);
  }
}

describe('chunk pool', () => {
  it('builds packs in a fixed set of lent buffers: uploads are bounded and no buffer is reused too early', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-pool-'));
    const store = new SlowPackStore();
    const repo = await Repository.init(store, 'pw');
    // Small pack buffers, so 12 MiB of incompressible files make many packs that wait for uploads.
    const pool = new ChunkPool(repo, 2, 1024 * 1024 * 5);
    try {
      const files: Buffer[] = [];
      for (let i = 0; i < 24; i++) {
        const data = randomBytes(i % 3 === 0 ? 1024 * 1024 + i : 300 * 1024 + i);
        files.push(data);
        await writeFile(join(dir, `f${i}`), data);
      }
      const results = await Promise.all(files.map((f, i) => pool.chunk(join(dir, `f${i}`), f.length)));
      await pool.drain();
      await repo.flush();
      assert.ok(store.packs >= 3, `only ${store.packs} packs`);
      // One buffer per worker plus the two that may be uploading.
      assert.ok(store.maxUploading <= 4, `${store.maxUploading} uploads at once`);
      for (const [i, result] of results.entries()) {
        assert.equal(result.error, undefined);
        assert.equal(result.size, files[i].length);
        const blobs = await Promise.all(result.content.map((id) => repo.loadBlob('data', id)));
        assert.deepEqual(Buffer.concat(blobs), files[i], `file ${i} reads back`);
      }
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a failed upload answers every file it held or queued, ignores the replies still coming, and fails the drain', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-pool-'));
    const repo = await Repository.init(new FailingPackStore(), 'pw');
    // Small pack buffers: the first pack fails to upload while both workers hold tasks, and
    // more files wait in the queue than the two workers' four places take.
    const pool = new ChunkPool(repo, 2, 1024 * 1024 * 5);
    try {
      const files: string[] = [];
      for (let i = 0; i < 160; i++) {
        files.push(join(dir, `f${i}`));
        await writeFile(files[i], randomBytes(300 * 1024 + i));
      }
      const results = await Promise.all(files.map((f) => pool.chunk(f, 300 * 1024)));
      await assert.rejects(pool.drain(), /the link went down/);
      assert.ok(
        results.some((r) => r.error === 'the link went down'),
        'the files in flight fail with the upload',
      );
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cuts a large file on one worker and seals it on both: the blobs are those of cutting it whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-split-'));
    const repo = await Repository.init(new MemoryStore(), 'pw');
    // Split from 1 MiB, so that 80 MiB make ten ranges of 8 MiB.
    const pool = new ChunkPool(repo, 2, PACK_BUFFER_SIZE, 1024 * 1024);
    try {
      // Half random, half repeated: new blobs, and blobs that deduplicate within the file.
      const random = randomBytes(40 * 1024 * 1024);
      const data = Buffer.concat([random, random.subarray(0, 20 * 1024 * 1024), random.subarray(0, 20 * 1024 * 1024)]);
      await writeFile(join(dir, 'disk.img'), data);
      await writeFile(join(dir, 'small'), 'next to it');
      const [large, small] = await Promise.all([pool.chunk(join(dir, 'disk.img'), data.length), pool.chunk(join(dir, 'small'), 10)]);
      await pool.drain();
      await repo.flush();

      assert.equal(large.error, undefined);
      assert.equal(pool.splits.files, 1);
      const { rangesKept, rangesHandedOut } = pool.splits;
      assert.equal(rangesKept + rangesHandedOut, 10, 'ten ranges of 8 MiB');
      // The first range is always handed out; how many more depends on the two threads' pace.
      assert.ok(rangesHandedOut >= 1, `${rangesHandedOut} ranges handed out, ${rangesKept} kept`);
      assert.equal(large.size, data.length);
      assert.equal(large.stat?.inode, Number((await stat(join(dir, 'disk.img'), { bigint: true })).ino));
      const expected: string[] = [];
      let at = 0;
      for (const length of chunkLengths(gearTable(repo.key.chunkerSeed), data)) expected.push(repo.blobId(data.subarray(at, (at += length))));
      assert.deepEqual(large.content, expected);
      const blobs = await Promise.all(large.content.map((id) => repo.loadBlob('data', id)));
      assert.ok(Buffer.concat(blobs).equals(data), 'the file reads back');
      assert.deepEqual(await Promise.all(small.content.map((id) => repo.loadBlob('data', id))), [Buffer.from('next to it')]);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
