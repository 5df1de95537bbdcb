import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository } from '../repo/repository.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { BlobData } from '../storage/blob-store.js';
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
});
