import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../backup/archiver.js';
import { writeSampleTree } from '../backup/sample-tree.js';
import { Repository } from '../repo/repository.js';
import { listAll } from '../storage/blob-store.js';
import { FsStore } from '../storage/fs/fs-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { RetryStore } from '../storage/retry.js';
import { RangedReadLog } from '../../testing/ranged-read-log.js';
import { importDrive } from './drive-reader.js';
import { prepareDrives } from './drive-writer.js';

describe('diskprep from a staging directory behind wrappers', () => {
  it('seals the staged files from their local paths; without them it reads each through the store', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'envelope-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const data = join(dir, 'data');
    await writeSampleTree(data, 2, 10);
    const staging = new FsStore(join(dir, 'staging'));
    await backup(await Repository.init(staging, 'pw'), { paths: [data] });
    const staged = (await listAll(staging, '')).map((f) => f.name).sort();

    for (const localPaths of [true, false]) {
      const log = new RangedReadLog(staging, { localPaths });
      const drive = join(dir, `drive-${localPaths}`);
      await mkdir(drive);
      const result = await prepareDrives({
        staging: new RetryStore(log),
        jobName: `seed-${localPaths}`,
        drives: [{ path: drive, capacity: 1e9 }],
        stateDir: join(dir, `state-${localPaths}`),
      });
      const imported = new MemoryStore();
      const report = await importDrive(drive, result.drives[0], imported);
      assert.deepEqual(report.problems, []);
      assert.deepEqual((await listAll(imported, '')).map((f) => f.name).sort(), staged);
      if (localPaths) assert.deepEqual(log.rangedReads, [], 'no staged file is read through the store');
      else assert.deepEqual([...new Set(log.rangedReads)].sort(), staged, 'every staged file is read through the store');
    }
  });

  it('a drive given but not needed is left untouched and is not part of the job (issue 18)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'envelope-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const data = join(dir, 'data');
    await writeSampleTree(data, 2, 10);
    const staging = new FsStore(join(dir, 'staging'));
    await backup(await Repository.init(staging, 'pw'), { paths: [data] });
    const drives = [join(dir, 'drive1'), join(dir, 'drive2')];
    for (const d of drives) await mkdir(d);
    const result = await prepareDrives({ staging, jobName: 'seed', drives: drives.map((path) => ({ path, capacity: 1e9 })), stateDir: join(dir, 'state') });
    assert.equal(result.remainingFiles, 0);
    assert.deepEqual(
      result.drives.map((d) => d.path),
      [drives[0]],
    );
    assert.deepEqual(await readdir(drives[1]), [], 'nothing written on the drive not needed');
  });
});
