import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../backup/archiver.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { checkRepository } from './check.js';
import { INDEX_DIR, SNAPSHOTS_DIR } from './layout.js';
import { prune } from './prune.js';
import { Repository } from './repository.js';

const PASSWORD = 'prune test';

async function names(store: MemoryStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.name);
  return out;
}

describe('prune', () => {
  it('drops what no snapshot uses, rewrites packs mostly unused, and leaves one index file that checks', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'prune-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new MemoryStore();
    const writer = await Repository.init(store, PASSWORD);
    // Small files share a pack; the second snapshot keeps a tenth of them, so that pack is mostly garbage.
    for (let i = 0; i < 50; i++) await writeFile(join(dir, `f${i}`), randomBytes(60_000));
    const first = await backup(writer, { paths: [dir] });
    for (let i = 5; i < 50; i++) await rm(join(dir, `f${i}`));
    const second = await backup(writer, { paths: [dir] });
    await store.delete(SNAPSHOTS_DIR + first.snapshotId);

    const repo = await Repository.open(store, PASSWORD);
    await repo.loadIndex();
    const report = await prune(repo);
    assert.ok(report.packsRepacked >= 1, JSON.stringify(report));
    assert.ok(report.bytesFreed > 2_500_000, `freed ${report.bytesFreed}`);
    assert.equal((await names(store, INDEX_DIR)).length, 1);

    const reader = await Repository.open(store, PASSWORD);
    await reader.loadIndex();
    const checked = await checkRepository(reader, { readData: true });
    assert.deepEqual(checked.problems, []);
    assert.equal(checked.unreferencedPacks, 0);
    assert.equal(checked.snapshots, 1);
    assert.equal((await reader.listSnapshots())[0].id, second.snapshotId);
  });

  it('a snapshot whose tree cannot be read stops it before anything is deleted', async () => {
    const store = new MemoryStore();
    const writer = await Repository.init(store, PASSWORD);
    const tree = writer.blobId(Buffer.from('a tree that was never stored'));
    await writer.saveSnapshot({
      version: 1,
      time: new Date().toISOString(),
      tree,
      paths: ['/x'],
      hostname: 'h',
      username: 'u',
      tags: [],
      excludes: [],
    } as never);
    const before = await names(store, '');
    const repo = await Repository.open(store, PASSWORD);
    await repo.loadIndex();
    await assert.rejects(prune(repo), /prune stopped before deleting anything/);
    assert.deepEqual(await names(store, ''), before);
  });
});
