import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { consolidateIndex, FILES_PER_TIER, planConsolidation } from './index-consolidation.js';
import type { PackEntry } from './index-file.js';
import { IndexLoader } from './index-loader.js';
import { IndexWriter } from './index-writer.js';
import { INDEX_DIR, packName } from './layout.js';
import { MasterIndex } from './master-index.js';
import { RepositoryFiles } from './repository-files.js';

const randomId = () => randomBytes(32).toString('hex');
const KEY = randomBytes(32);

function randomPack(): PackEntry {
  return { id: randomId(), size: 500, blobs: [0, 1, 2].map((i) => ({ type: 'data', id: randomId(), offset: i * 100, length: 100, rawLength: 90 })) };
}

async function names(store: MemoryStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.name);
  return out.sort();
}

/** A fresh reader's index of the store. */
async function load(store: MemoryStore): Promise<MasterIndex> {
  const files = new RepositoryFiles(store, KEY, 'blake3');
  const index = new MasterIndex();
  assert.deepEqual(await new IndexLoader(files, KEY, index, new IndexWriter(files, index)).loadIndex(), []);
  return index;
}

/** `count` backups' index files of one pack each; with `stored`, the packs are in the store too. */
async function backups(store: MemoryStore, index: MasterIndex, count: number, stored = true): Promise<PackEntry[]> {
  const writer = new IndexWriter(new RepositoryFiles(store, KEY, 'blake3'), index);
  const packs = Array.from({ length: count }, randomPack);
  for (const pack of packs) {
    if (stored) await store.put(packName(pack.id), Buffer.alloc(pack.size));
    await writer.writeFile([pack]);
  }
  return packs;
}

describe('index consolidation', () => {
  it('merges a tier once it is full, with every smaller file, into one', () => {
    const small = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, size: 60_000 }));
    assert.deepEqual(planConsolidation(small(FILES_PER_TIER - 1)), []);
    assert.deepEqual(planConsolidation(small(FILES_PER_TIER)), [small(FILES_PER_TIER)]);
    const large = { name: 'seed', size: 500_000_000 };
    assert.deepEqual(planConsolidation([large, ...small(FILES_PER_TIER)]), [small(FILES_PER_TIER)], 'the seed index is not rewritten');
    const middle = Array.from({ length: FILES_PER_TIER - 1 }, (_, i) => ({ name: `m${i}`, size: 200_000 }));
    const [group] = planConsolidation([large, ...middle, ...small(FILES_PER_TIER)]);
    assert.equal(group.length, 2 * FILES_PER_TIER - 1, 'the merged small files fill the next tier, which merges too');
  });

  it('replaces many index files by few that name the same blobs, new one first', async () => {
    const store = new MemoryStore();
    const index = new MasterIndex();
    const packs = await backups(store, index, 3 * FILES_PER_TIER);
    const before = await names(store, INDEX_DIR);
    const report = await consolidateIndex(new RepositoryFiles(store, KEY, 'blake3'), index);
    const after = await names(store, INDEX_DIR);
    assert.deepEqual(report, { written: 1, deleted: before.length });
    assert.equal(after.length, 1);
    const fresh = await load(store);
    assert.equal(fresh.blobCount, 3 * packs.length);
    for (const pack of packs) assert.deepEqual(fresh.lookup(pack.blobs[2].id), { ...pack.blobs[2], pack: pack.id });

    await backups(store, index, FILES_PER_TIER - 2);
    assert.deepEqual(
      await consolidateIndex(new RepositoryFiles(store, KEY, 'blake3'), index),
      { written: 0, deleted: 0 },
      'with the merged one, the tier is not full',
    );
    await backups(store, index, 1);
    assert.deepEqual(await consolidateIndex(new RepositoryFiles(store, KEY, 'blake3'), index), { written: 1, deleted: FILES_PER_TIER });
  });

  it('leaves alone index files naming packs the store lacks, so a withdrawn seed takes its packs back', async () => {
    const vault = new MemoryStore();
    const index = new MasterIndex();
    const onDrives = await backups(vault, index, FILES_PER_TIER, false);
    const seedIndex = await names(vault, INDEX_DIR);
    await backups(vault, index, 2 * FILES_PER_TIER);
    await consolidateIndex(new RepositoryFiles(vault, KEY, 'blake3'), index);
    const after = await names(vault, INDEX_DIR);
    assert.deepEqual(
      after.filter((n) => seedIndex.includes(n)),
      seedIndex,
    );
    assert.equal(after.length, seedIndex.length + 1);

    for (const name of seedIndex) await vault.delete(name);
    const withdrawn = await load(vault);
    assert.equal(withdrawn.blobCount, 3 * 2 * FILES_PER_TIER);
    assert.equal(
      onDrives.some((p) => withdrawn.hasPack(p.id)),
      false,
    );
  });

  it('is harmless when a replaced index file is copied in again, as a seed copy may', async () => {
    const store = new MemoryStore();
    const index = new MasterIndex();
    await backups(store, index, FILES_PER_TIER);
    const [first] = await names(store, INDEX_DIR);
    const copy = await store.get(first);
    await consolidateIndex(new RepositoryFiles(store, KEY, 'blake3'), index);
    await store.put(first, copy);
    const fresh = await load(store);
    assert.equal(fresh.blobCount, 3 * FILES_PER_TIER, 'the pack named twice counts once');
    assert.equal(fresh.packCount, FILES_PER_TIER);
  });
});
