import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { BlobData, BlobInfo } from '../storage/blob-store.js';
import { checkRepository } from './check.js';
import { DATA_DIR, INDEX_DIR } from './layout.js';
import { parseJournal } from './pack-journal.js';
import { Repository } from './repository.js';

const PASSWORD = 'pack journal test';

/** A store that counts listings of data/ and can refuse index files, as a writer killed before its checkpoint would never write them. */
class WatchedStore extends MemoryStore {
  packListings = 0;
  refuseIndexFiles = false;

  override list(prefix: string): AsyncIterable<BlobInfo> {
    if (prefix === DATA_DIR) this.packListings++;
    return super.list(prefix);
  }

  override put(name: string, data: BlobData): Promise<void> {
    if (this.refuseIndexFiles && name.startsWith(INDEX_DIR)) return Promise.reject(new Error('killed before the index was written'));
    return super.put(name, data);
  }
}

function journalDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'pack-journal-'));
}

describe('pack journal', () => {
  it('finds the packs of a writer killed before its index checkpoint, without listing every pack', async () => {
    const dir = journalDirectory();
    try {
      const store = new WatchedStore();
      const killed = await Repository.init(store, PASSWORD);
      killed.journalPacksIn(dir);
      const data = [randomBytes(300_000), randomBytes(5000)];
      const ids = [];
      for (const d of data) ids.push(await killed.saveBlob('data', d));
      store.refuseIndexFiles = true;
      await assert.rejects(killed.flush(), /killed before the index/);
      const recorded = readdirSync(dir).filter((n) => n.startsWith('run-'));
      assert.equal(recorded.length, 1, 'the run recorded its unindexed packs');
      assert.deepEqual(
        parseJournal(readFileSync(join(dir, recorded[0]), 'utf8')).map((p) => p.id),
        killed.writtenPacks.map((p) => p.id),
      );

      store.refuseIndexFiles = false;
      const next = await Repository.open(store, PASSWORD);
      next.journalPacksIn(dir);
      await next.loadIndex();
      assert.equal(await next.indexUnindexedPacks(), killed.writtenPacks.length);
      assert.equal(store.packListings, 0, 'no listing of data/');
      assert.deepEqual(readdirSync(dir), [], 'the journal is cleared once an index file names its packs');
      for (const [i, id] of ids.entries()) assert.deepEqual(await next.loadBlob('data', id), data[i]);
      assert.equal(await next.saveBlob('data', data[0]), ids[0]);
      await next.flush();
      assert.equal(next.writtenPacks.length, 0, 'what the killed run stored is not stored again');

      const reader = await Repository.open(store, PASSWORD);
      await reader.loadIndex();
      assert.deepEqual((await checkRepository(reader, { readData: true })).problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is only a hint: a pack it names that is gone, damaged or foreign is skipped, torn lines are ignored', async () => {
    const dir = journalDirectory();
    try {
      const store = new WatchedStore();
      const repo = await Repository.init(store, PASSWORD);
      await repo.saveBlob('data', randomBytes(1000));
      await repo.flush();
      const [real] = repo.writtenPacks;
      const missing = 'ab'.repeat(32);
      writeFileSync(join(dir, 'run-old'), `${missing} 4096\n${real.id} ${real.size}\nnot a line\n${'cd'.repeat(32)} -5\n${'ef'.repeat(31)}`);
      const next = await Repository.open(store, PASSWORD);
      next.journalPacksIn(dir);
      await next.loadIndex();
      assert.equal(await next.indexUnindexedPacks(), 0, 'the real pack is indexed already; the missing one is skipped');
      assert.equal(store.packListings, 0);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses only well-formed lines', () => {
    const id = 'a1'.repeat(32);
    assert.deepEqual(parseJournal(`${id} 12\n${id} 0\n${id} 1.5\n${id} 3 extra\n${id.toUpperCase()} 4\n\n`), [{ id, size: 12 }]);
  });

  it('a repository without a journal still finds unindexed packs by listing them (the engine on a local directory)', async () => {
    const store = new WatchedStore();
    const repo = await Repository.init(store, PASSWORD);
    await repo.loadIndex();
    await repo.indexUnindexedPacks();
    assert.equal(store.packListings, 1);
  });
});
