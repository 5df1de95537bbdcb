import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../../core/backup/archiver.js';
import { checkRepository } from '../../core/repo/check.js';
import { Repository } from '../../core/repo/repository.js';
import { MemoryStore } from '../../core/storage/memory/memory-store.js';
import { applyRetention } from './retention.js';

const PASSWORD = 'retention test';

/** Three daily backups of a file that changes every day, dated by the clock module. */
async function threeDays(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'retention-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new MemoryStore();
  const repo = await Repository.init(store, PASSWORD);
  const ids: string[] = [];
  try {
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      process.env.DRIVESEED_NOW = `${day}T02:00:00Z`;
      await writeFile(join(dir, 'today.bin'), randomBytes(200_000));
      ids.push((await backup(repo, { paths: [dir], tags: ['agent'] })).snapshotId);
    }
  } finally {
    delete process.env.DRIVESEED_NOW;
  }
  return { store, repo, ids };
}

describe('retention after a backup', () => {
  it('a backup holding its lock makes retention skip with a note; the next run forgets and prunes', async (t) => {
    const { store, repo, ids } = await threeDays(t);
    const other = await Repository.open(store, PASSWORD);
    const running = await other.lock(false, 'agent backup-now');
    const skipped = await applyRetention(repo, { last: 1 }, ids[2]);
    assert.match(skipped.note ?? '', /^retention skipped \(repository is locked by agent backup-now .*\); it runs again after the next backup$/);
    assert.deepEqual(skipped.forgotten, []);
    assert.equal((await repo.listSnapshots()).length, 3, 'nothing forgotten beside a running backup');
    await running.release();

    const done = await applyRetention(repo, { last: 1 }, ids[2]);
    assert.equal(done.note, undefined);
    assert.deepEqual(done.forgotten.map((s) => s.id).sort(), [ids[0], ids[1]].sort());
    assert.ok(done.bytesFreed > 350_000, `freed ${done.bytesFreed}`);
    const reader = await Repository.open(store, PASSWORD);
    const checked = await checkRepository(reader, { readData: true });
    assert.deepEqual(checked.problems, []);
    assert.deepEqual(
      (await reader.listSnapshots()).map((s) => s.id),
      [ids[2]],
    );
  });

  it('the point just made stays whatever the rules say; nothing to forget prunes nothing', async (t) => {
    const { repo, ids } = await threeDays(t);
    // Only a tag no snapshot has: by the rules alone every point would go.
    const outcome = await applyRetention(repo, { tags: ['legal-hold'] }, ids[2]);
    assert.deepEqual(outcome.forgotten.map((s) => s.id).sort(), [ids[0], ids[1]].sort());
    assert.deepEqual(
      (await repo.listSnapshots()).map((s) => s.id),
      [ids[2]],
    );
    const again = await applyRetention(repo, { daily: 7 }, ids[2]);
    assert.deepEqual([again.forgotten, again.bytesFreed], [[], 0]);
  });
});
