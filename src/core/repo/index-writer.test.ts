import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { readIndexFile, type IndexSink, type PackEntry } from './index-file.js';
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

  it('writes index files in version 2, the binary format', async () => {
    const files = new RepositoryFiles(new MemoryStore(), randomBytes(32), 'blake3');
    const writer = new IndexWriter(files, new MasterIndex());
    const id = await writer.writeFile([pack(1)]);
    const payload = await files.readSealedPayload('index', `index/${id}`);
    assert.equal(payload.subarray(0, 4).toString('latin1'), 'DSI\x02');
    assert.equal(payload.length, 12 + 40 + 45, 'header, one pack, one blob');
    const seen: string[] = [];
    const sink: IndexSink = {
      pack: (bytes, at, size) => seen.push(`pack ${Buffer.from(bytes.subarray(at, at + 32)).toString('hex')} ${size}`) > 0,
      blob: (bytes, at, tree, offset, length, rawLength) =>
        seen.push(`blob ${Buffer.from(bytes.subarray(at, at + 32)).toString('hex')} ${tree} ${offset} ${length} ${rawLength}`),
    };
    readIndexFile(payload, 'file', sink);
    assert.deepEqual(seen, [`pack ${pack(1).id} 1001`, `blob ${pack(1).blobs[0].id} false 0 100 90`]);
  });
});
