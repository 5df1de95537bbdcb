import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { checkRepository } from './check.js';
import { consolidateIndex, FILES_PER_TIER } from './index-consolidation.js';
import { IndexLoader } from './index-loader.js';
import { IndexWriter } from './index-writer.js';
import { INDEX_DIR, packName } from './layout.js';
import { MasterIndex } from './master-index.js';
import { Repository } from './repository.js';
import { RepositoryFiles } from './repository-files.js';

const PASSWORD = 'index loader test';

async function indexNames(store: MemoryStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(INDEX_DIR)) out.push(info.name);
  return out;
}

describe('index loader', () => {
  it('reads a repository whose index files are version 1 (JSON), beside version 2 ones', async () => {
    const store = new MemoryStore();
    const writer = await Repository.init(store, PASSWORD);
    const old = [randomBytes(200_000), randomBytes(3000)];
    const oldIds = [];
    for (const data of old) oldIds.push(await writer.saveBlob('data', data));
    await writer.flush();
    // Today's index files become what the version 1 writer wrote: the same packs, as JSON.
    const packs = [...writer.index.allPacks()];
    for (const name of await indexNames(store)) await store.delete(name);
    const files = new RepositoryFiles(store, writer.key.encryption, writer.fileIdScheme);
    await files.writeSealed('index', INDEX_DIR, { version: 1, packs });

    const later = await Repository.open(store, PASSWORD);
    assert.deepEqual(await later.loadIndex(), []);
    const added = await later.saveBlob('data', Buffer.from('written after the upgrade'));
    await later.flush();

    const reader = await Repository.open(store, PASSWORD);
    assert.deepEqual(await reader.loadIndex(), []);
    for (const [i, id] of oldIds.entries()) assert.deepEqual(await reader.loadBlob('data', id), old[i]);
    assert.equal((await reader.loadBlob('data', added)).toString(), 'written after the upgrade');
    assert.equal(await reader.indexPacksFromHeaders(false), 0, 'every pack named by an index file');
    const report = await checkRepository(reader, { readData: true });
    assert.deepEqual(report.problems, []);
    assert.equal(report.blobs, 3);
  });

  it('reads on when index files vanish under it, replaced by a consolidated one', async () => {
    const store = new MemoryStore();
    const key = randomBytes(32);
    const files = new RepositoryFiles(store, key, 'blake3');
    const writer = new MasterIndex();
    const indexWriter = new IndexWriter(files, writer);
    for (let i = 0; i < FILES_PER_TIER; i++) {
      const pack = {
        id: randomBytes(32).toString('hex'),
        size: 100,
        blobs: [{ type: 'data' as const, id: randomBytes(32).toString('hex'), offset: 0, length: 50, rawLength: 40 }],
      };
      await store.put(packName(pack.id), Buffer.alloc(pack.size));
      await indexWriter.writeFile([pack]);
    }
    // The reader has listed the files; a writer consolidates before the reader gets to them.
    let consolidated = false;
    const racing = Object.assign(Object.create(store) as MemoryStore, {
      get: async (name: string) => {
        if (!consolidated && name.startsWith(INDEX_DIR)) {
          consolidated = true;
          await consolidateIndex(files, writer);
        }
        return store.get(name);
      },
    });
    const racingFiles = new RepositoryFiles(racing, key, 'blake3');
    const reader = new MasterIndex();
    assert.deepEqual(await new IndexLoader(racingFiles, key, reader, new IndexWriter(racingFiles, reader)).loadIndex(), []);
    assert.equal(consolidated, true);
    assert.equal(reader.blobCount, FILES_PER_TIER);
  });
});
