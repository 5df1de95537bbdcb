import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../../core/backup/archiver.js';
import { writeSampleTree } from '../../core/backup/sample-tree.js';
import { prepareDrives, writtenDrives } from '../../core/envelope/drive-writer.js';
import { isDriveseedError } from '../../core/errors.js';
import { Repository } from '../../core/repo/repository.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { verifyJobDrives } from './verify-drives.js';

/** A staged repository written onto one mounted drive, not read back yet. */
async function writtenDrive(t: { after: (fn: () => Promise<void>) => void }, beforeWrite?: (stagingDir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeSampleTree(join(dir, 'data'), 2, 10);
  const staging = new FsStore(join(dir, 'staging'));
  await backup(await Repository.init(staging, 'pw'), { paths: [join(dir, 'data')] });
  await beforeWrite?.(join(dir, 'staging'));
  const drive = join(dir, 'drive');
  await mkdir(drive);
  const stateDir = join(dir, 'state');
  await prepareDrives({ staging, jobName: 'seed', drives: [{ path: drive, capacity: 1e9 }], stateDir });
  return { dir, staging, drive, stateDir };
}

function flipByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x01;
  writeFileSync(file, bytes);
}

describe('the read-back of a drive', () => {
  it('a drive that corrupts the file again after it was written again is dropped from the job; nothing is registered from it', async (t) => {
    const w = await writtenDrive(t);
    const victim = join(w.drive, 'payload', '000000');
    flipByte(victim);
    const said: string[] = [];
    await assert.rejects(
      verifyJobDrives({
        staging: w.staging,
        jobName: 'seed',
        stateDir: w.stateDir,
        say: (line) => {
          said.push(line);
          // The failing drive: what was just written again turns bad again before it is read.
          if (line.includes('written again')) flipByte(victim);
        },
      }),
      (e) =>
        isDriveseedError(e, 'CORRUPT') && /is failing: .* did not verify after it was written again; the drive is dropped from import job seed/.test(e.message),
    );
    assert.equal(said.filter((l) => l.includes('does not verify')).length, 2, said.join('\n'));
    assert.deepEqual(await writtenDrives(w.stateDir, 'seed'), [], 'the job has no drive left to register');
  });

  it('a staged file damaged before it was sealed is the staging repository’s fault, not the drive’s: named, and the drive kept', async (t) => {
    const w = await writtenDrive(t, async (stagingDir) => {
      const pack = (await readdir(join(stagingDir, 'data'), { recursive: true })).find((p) => p.length > 3)!;
      flipByte(join(stagingDir, 'data', pack));
    });
    await assert.rejects(
      verifyJobDrives({ staging: w.staging, jobName: 'seed', stateDir: w.stateDir, say: () => undefined }),
      (e) => isDriveseedError(e, 'CORRUPT') && /the staged copy of data\/.* does not match its name: the staged repository is damaged/.test(e.message),
    );
    assert.equal((await writtenDrives(w.stateDir, 'seed')).length, 1, 'the drive stays in the job');
  });

  it('a clean drive verifies, from the device where the file system allows it, and a second run finds it verified', async (t) => {
    const w = await writtenDrive(t);
    const [first] = await verifyJobDrives({ staging: w.staging, jobName: 'seed', stateDir: w.stateDir, say: () => undefined });
    assert.deepEqual(first.rewritten, []);
    assert.equal(first.already, false);
    const [again] = await verifyJobDrives({ staging: w.staging, jobName: 'seed', stateDir: w.stateDir, say: () => undefined });
    assert.equal(again.already, true);
    assert.equal((await writtenDrives(w.stateDir, 'seed'))[0].verified, true);
  });
});
