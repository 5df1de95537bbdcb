import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { PackEntry } from './index-file.js';
import { MasterIndex } from './master-index.js';
import { IndexWriter } from './index-writer.js';
import { RepositoryFiles } from './repository-files.js';

function pack(n: number): PackEntry {
  const id = (i: number) => (n * 100 + i).toString(16).padStart(64, '0');
  return { id: id(0), size: 1000 + n, blobs: [{ type: 'data', id: id(1), offset: 0, length: 100, rawLength: 90 }] };
}

async function indexFiles(store: MemoryStore): Promise<string[]> {
  const names: string[] = [];
  for await (const info of store.list('index/')) names.push(info.name);
  return names;
}

/** The packs an index file names, read back through a fresh index. */
async function packsIn(files: RepositoryFiles, name: string): Promise<PackEntry[]> {
  const index = new MasterIndex();
  index.addIndexFile({ name, size: 0 }, await files.readSealedPayload('index', name));
  return [...index.allPacks()];
}

describe('index writer', () => {
  it('claims a blob once, and indexes stored packs at a checkpoint every 8 packs', async () => {
    const store = new MemoryStore();
    const files = new RepositoryFiles(store, randomBytes(32), 'blake3');
    const index = new MasterIndex();
    const writer = new IndexWriter(files, index);
    const blob = pack(1).blobs[0].id;

    assert.equal(writer.claim(blob), true);
    assert.equal(writer.claim(blob), false, 'claimed already: stored once');
    for (let n = 1; n <= 7; n++) await writer.packStored(pack(n));
    assert.deepEqual(await indexFiles(store), [], 'no checkpoint before the eighth pack');
    assert.equal(index.has(blob), false);
    assert.equal(writer.knows(blob), true, 'a claimed blob counts as known before it is indexed');

    await writer.packStored(pack(8));
    const [name] = await indexFiles(store);
    const written = await packsIn(files, name);
    assert.deepEqual(
      written,
      Array.from({ length: 8 }, (_, i) => pack(i + 1)),
    );
    assert.equal(index.has(blob), true);
    assert.deepEqual(
      writer.writtenPacks.map((p) => p.id),
      written.map((p) => p.id),
    );
    const packBytes = written.reduce((n, p) => n + p.size, 0);
    assert.equal(writer.bytesAdded, packBytes + (await store.stat(name)).size);

    await writer.packStored(pack(9));
    await writer.checkpoint();
    assert.equal((await indexFiles(store)).length, 2, 'the rest at flush');
    assert.equal(index.packSize(pack(9).id), pack(9).size);
  });

  it('writes index files in version 2, byte for byte as docs/format.md says', async () => {
    const files = new RepositoryFiles(new MemoryStore(), randomBytes(32), 'blake3');
    const writer = new IndexWriter(files, new MasterIndex());
    const [packId, later, earlier] = ['aa', 'cc', 'bb'].map((b) => b.repeat(32));
    const blobs = [
      { type: 'data' as const, id: later, offset: 0, length: 100, rawLength: 90 },
      { type: 'tree' as const, id: earlier, offset: 100, length: 7, rawLength: 300 },
    ];
    const id = await writer.writeFile([{ id: packId, size: 1234, blobs }]);
    const u32 = (n: number) => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32LE(n);
      return bytes;
    };
    const expected = Buffer.concat([
      Buffer.from('DSI\x02', 'latin1'),
      u32(1),
      u32(2),
      Buffer.from(packId, 'hex'),
      u32(1234),
      // Records sorted by id; the pack index's top bit marks a tree blob.
      Buffer.from(earlier, 'hex'),
      u32(0x8000_0000),
      u32(100),
      u32(7),
      u32(300),
      Buffer.from(later, 'hex'),
      u32(0),
      u32(0),
      u32(100),
      u32(90),
    ]);
    assert.deepEqual(await files.readSealedPayload('index', `index/${id}`), expected);
  });
});
