import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import { encodeIndexFile, type PackEntry } from './index-file.js';
import { MasterIndex } from './master-index.js';

const randomId = () => randomBytes(32).toString('hex');

function randomPack(blobs: number): PackEntry {
  let offset = 0;
  const entries = Array.from({ length: blobs }, (_, i) => {
    const blob = { type: i % 5 === 0 ? ('tree' as const) : ('data' as const), id: randomId(), offset, length: 100 + i, rawLength: 200 + i };
    offset += blob.length;
    return blob;
  });
  return { id: randomId(), size: offset + 50, blobs: entries };
}

describe('master index', () => {
  it('finds every blob added one pack at a time, through batches sorted in, and no other', () => {
    const index = new MasterIndex();
    const packs = Array.from({ length: 3000 }, () => randomPack(50));
    for (const pack of packs) index.addPack(pack);
    assert.equal(index.blobCount, 150_000);
    assert.equal(index.packCount, 3000);
    for (const pack of [packs[0], packs[1500], packs[2999]]) {
      for (const blob of pack.blobs) assert.deepEqual(index.lookup(blob.id), { ...blob, pack: pack.id });
    }
    for (let i = 0; i < 1000; i++) assert.equal(index.has(randomId()), false);
    assert.equal(index.packSize(packs[7].id), packs[7].size);
    assert.equal(index.hasPack(randomId()), false);
  });

  it('grows a loaded index by batches, merged in place and into new room, and keeps the first location of a blob stored again', () => {
    const loaded = Array.from({ length: 400 }, () => randomPack(250));
    const index = new MasterIndex();
    index.addIndexFile({ name: 'index/a', size: 1 }, encodeIndexFile(loaded));
    index.settle();
    // Batches of new blobs (each 1 in 10 a blob the index has already), sorted in as the table
    // fills: the first outgrows the loaded table's exact columns, later ones fit its new room.
    const added: PackEntry[] = [];
    for (let p = 0; p < 1200; p++) {
      const pack = randomPack(250);
      pack.blobs[p % 250] = { ...loaded[p % 400].blobs[p % 250], offset: pack.blobs[p % 250].offset };
      added.push(pack);
      index.addPack(pack);
    }
    index.settle();
    assert.equal(index.blobCount, 400 * 250 + 1200 * 250);
    for (const pack of loaded) for (const blob of pack.blobs) assert.deepEqual(index.lookup(blob.id), { ...blob, pack: pack.id });
    for (const [p, pack] of added.entries()) {
      for (const [b, blob] of pack.blobs.entries()) {
        const first = b === p % 250 ? loaded[p % 400] : pack;
        assert.equal(index.lookup(blob.id)?.pack, first.id, 'a blob stored again is found where it was first');
      }
    }
    for (let i = 0; i < 1000; i++) assert.equal(index.has(randomId()), false);
    const listed = [...index.allPacks()];
    assert.equal(listed.length, 1600);
    assert.equal(
      listed.reduce((n, p) => n + p.blobs.length, 0),
      400 * 250 + 1200 * 250,
      'every record kept, the duplicates too',
    );
  });

  it('keeps the first location of a blob stored twice, and a pack named twice once', () => {
    const index = new MasterIndex();
    const first = randomPack(3);
    const second = { ...randomPack(1), blobs: [{ ...first.blobs[1], offset: 0 }] };
    index.addPack(first);
    index.addPack(first);
    index.addPack(second);
    assert.equal(index.packCount, 2);
    assert.equal(index.lookup(first.blobs[1].id)?.pack, first.id);
    index.settle();
    assert.equal(index.lookup(first.blobs[1].id)?.pack, first.id, 'sorted in: still the first');
    assert.deepEqual([...index.allPacks()], [first, second], 'each pack with all its blobs, the duplicate too');
  });

  it('loads index files in bulk, version 1 (JSON) and version 2, to the same index', () => {
    const packs = Array.from({ length: 20 }, () => randomPack(30));
    const v1 = new MasterIndex();
    v1.addIndexFile({ name: 'index/a', size: 1 }, Buffer.from(JSON.stringify({ version: 1, packs })));
    const v2 = new MasterIndex();
    v2.addIndexFile({ name: 'index/b', size: 1 }, encodeIndexFile(packs));
    for (const index of [v1, v2]) {
      assert.equal(index.blobCount, 600);
      assert.deepEqual(index.lookup(packs[3].blobs[4].id), { ...packs[3].blobs[4], pack: packs[3].id });
      assert.deepEqual([...index.allPacks()], packs);
    }
  });

  it('merges version 2 files: a pack in two files counts once, a blob in two packs keeps its first', () => {
    const [a, b, shared] = [randomPack(40), randomPack(40), randomPack(3)];
    const twice = { ...randomPack(1), blobs: [{ ...a.blobs[7], offset: 0 }] };
    const index = new MasterIndex();
    index.addIndexFile({ name: 'index/1', size: 1 }, encodeIndexFile([a, shared]));
    index.addIndexFile({ name: 'index/2', size: 1 }, encodeIndexFile([shared, twice, b]));
    assert.equal(index.blobCount, 40 + 3 + 1 + 40);
    assert.equal(index.packCount, 4);
    assert.equal(index.lookup(a.blobs[7].id)?.pack, a.id);
    for (const pack of [a, b, shared]) for (const blob of pack.blobs) assert.deepEqual(index.lookup(blob.id), { ...blob, pack: pack.id });
    index.addPack(randomPack(2));
    assert.equal(index.lookup(b.blobs[39].id)?.pack, b.id, 'found still, once blobs are added after the load');
  });

  it('refuses a damaged or unknown index file whole, with one line', () => {
    const index = new MasterIndex();
    const good = encodeIndexFile([randomPack(2)]);
    const cases: [Buffer, string][] = [
      [good.subarray(0, good.length - 1), 'CORRUPT'],
      [Buffer.concat([good.subarray(0, good.length - 96), good.subarray(good.length - 48), good.subarray(good.length - 96, good.length - 48)]), 'CORRUPT'],
      [Buffer.concat([good.subarray(0, 3), Buffer.from([3]), good.subarray(4)]), 'UNSUPPORTED_VERSION'],
      [Buffer.from(JSON.stringify({ version: 7, packs: [] })), 'UNSUPPORTED_VERSION'],
      [Buffer.from(JSON.stringify({ version: 1, packs: [{ ...randomPack(1), size: -1 }] })), 'CORRUPT'],
      [Buffer.from('{"version": 1, "pac'), 'CORRUPT'],
    ];
    for (const [payload, code] of cases) {
      assert.throws(
        () => index.addIndexFile({ name: 'index/x', size: 1 }, payload),
        (e: unknown) => e instanceof DriveseedError && e.code === code && e.message.startsWith('index/x: '),
      );
    }
    assert.equal(index.blobCount, 0);
    assert.equal(index.files.length, 0, 'a file that does not decode is not one the index came from');
  });

  it('encodes the packs of chosen index files as one file', () => {
    const index = new MasterIndex();
    const [a, b, c] = [randomPack(4), randomPack(5), randomPack(6)];
    index.addIndexFile({ name: 'index/a', size: 1 }, encodeIndexFile([a]));
    index.addIndexFile({ name: 'index/bc', size: 1 }, encodeIndexFile([b, c]));
    const merged = new MasterIndex();
    merged.addIndexFile({ name: 'index/m', size: 1 }, index.encodeFiles(new Set([1])));
    assert.deepEqual([...merged.allPacks()], [b, c]);
  });
});
