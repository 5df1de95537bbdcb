import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository } from '../repo/repository.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { backup } from './archiver.js';
import { restore } from './restorer.js';

const MiB = 1024 * 1024;

describe('sparse restore from a remote store', () => {
  it('leaves the holes of an image as holes, also the one it ends in, through the remote path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-sparse-'));
    try {
      await mkdir(join(dir, 'src'));
      const image = join(dir, 'src', 'vm.img');
      const fd = openSync(image, 'w');
      writeSync(fd, randomBytes(MiB), 0, MiB, 5 * MiB);
      writeSync(fd, randomBytes(MiB), 0, MiB, 17 * MiB);
      closeSync(fd);
      await truncate(image, 40 * MiB);
      // A memory store has no local paths: the restore takes the remote path (remote-files.ts).
      const repo = await Repository.init(new MemoryStore(), 'pw');
      await backup(repo, { paths: [join(dir, 'src')], threads: 2 });
      const [snapshot] = await repo.listSnapshots();
      const target = join(dir, 'out');
      const result = await restore(repo, snapshot, { target });
      assert.deepEqual(result.warnings, []);
      const restored = join(target, image);
      assert.equal(statSync(restored).size, 40 * MiB);
      assert.ok(readFileSync(restored).equals(readFileSync(image)));
      assert.ok(statSync(restored).blocks * 512 <= 3 * MiB, `${statSync(restored).blocks * 512} bytes allocated`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
