import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RangedReadLog } from '../../testing/ranged-read-log.js';
import { Repository } from '../repo/repository.js';
import { FsStore } from '../storage/fs/fs-store.js';
import { RetryStore } from '../storage/retry.js';
import { backup } from './archiver.js';
import { compareTrees } from './compare-trees.js';
import { restore } from './restorer.js';

describe('restore from a local repository behind wrappers', () => {
  it('its workers still read the packs by their local paths; without them the packs are read through the store', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-restore-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const data = join(dir, 'data');
    await mkdir(data);
    for (let i = 0; i < 5; i++) await writeFile(join(data, `f${i}`), randomBytes(50_000 + i));
    const local = new FsStore(join(dir, 'repo'));
    await backup(await Repository.init(local, 'pw'), { paths: [data], threads: 1 });

    for (const localPaths of [true, false]) {
      const log = new RangedReadLog(local, { localPaths });
      const repo = await Repository.open(new RetryStore(log), 'pw');
      await repo.loadIndex();
      const target = join(dir, `out-${localPaths}`);
      const result = await restore(repo, (await repo.listSnapshots())[0], { target });
      assert.equal(result.files, 5);
      assert.deepEqual(await compareTrees(data, join(target, data)), []);
      const packReads = log.rangedReads.filter((name) => name.startsWith('data/'));
      if (localPaths) assert.deepEqual(packReads, [], 'no pack is read through the store');
      else assert.ok(packReads.length > 0, 'the reads go through the store');
    }
  });
});
