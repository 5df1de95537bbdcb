import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../backup/archiver.js';
import { writeSampleTree } from '../backup/sample-tree.js';
import { isDriveseedError } from '../errors.js';
import { checkRepository } from '../repo/check.js';
import { Repository } from '../repo/repository.js';
import { listAll, type BlobStore } from '../storage/blob-store.js';
import { FsStore } from '../storage/fs/fs-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { importDrive } from './drive-reader.js';
import { prepareDrives, type PreparedDrive } from './drive-writer.js';
import { openDriveSource, type MediumKind } from './drive-medium.js';
import { BLOCK_SIZE, blockAad, HEADER_FILE, MANIFEST_FILE, openManifest, sealManifest, sha256, type ManifestFile } from './envelope-format.js';
import { open as openSealed, SEAL_OVERHEAD } from '../repo/crypto.js';

const PASSWORD = 'seed password';

/** A staging directory holding a real first backup, with enough data to need two drives. */
async function stagedBackup(t: { after: (fn: () => Promise<void>) => void }, kind: MediumKind = 'directory') {
  const dir = await mkdtemp(join(tmpdir(), 'envelope-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  await writeSampleTree(data, 3, 40);
  await writeFile(join(data, 'noise'), randomBytes(36 * 1024 * 1024));
  const staging = new FsStore(join(dir, 'staging'));
  const repo = await Repository.init(staging, PASSWORD);
  await backup(repo, { paths: [data] });
  const drives = kind === 'image' ? [1, 2, 3].map((n) => join(dir, `drive${n}.img`)) : [join(dir, 'drive1'), join(dir, 'drive2'), join(dir, 'drive3')];
  if (kind === 'directory') for (const d of drives) await mkdir(d);
  // Files go onto drives whole and in name order, so a drive closes when the next file does not
  // fit: with room for half the seed plus its largest file (a pack may pass its 16 MiB target
  // by a chunk), two or three drives always take it, and one never does.
  const files = await listAll(staging, '');
  const total = files.reduce((n, f) => n + f.size, 0);
  const spanCapacity = Math.max(...files.map((f) => f.size)) + Math.ceil(total / 2) + 2 * 1024 * 1024;
  assert.ok(spanCapacity < total, 'the sample seed is large enough to span drives');
  return { dir, staging, drives, stateDir: join(dir, 'state'), spanCapacity, largest: Math.max(...files.map((f) => f.size)) };
}

/** The payload files of a prepared drive, read from its own manifest. */
async function payloadOf(drive: PreparedDrive): Promise<ManifestFile[]> {
  const source = await openDriveSource(drive.path);
  return openManifest(Buffer.from(drive.key, 'base64'), drive.driveId, (await source.read(MANIFEST_FILE, 1 << 20))!).files;
}

/** Flips one bit of an entry where it lies on the drive, whether a directory or an image. */
async function flipBit(drivePath: string, entry: string, at: number): Promise<void> {
  const where = (await (await openDriveSource(drivePath)).locate(entry))!;
  const handle = await open(where.file, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, where.offset + at);
  byte[0] ^= 1;
  await handle.write(byte, 0, 1, where.offset + at);
  await handle.close();
}

/** Every byte a drive holds, as anyone who finds it could read them. */
async function everythingOn(path: string): Promise<Buffer> {
  if ((await stat(path)).isFile()) return readFile(path);
  const files = await readdir(path, { recursive: true });
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(path, f)).catch(() => Buffer.alloc(0)))));
}

async function importAll(prepared: PreparedDrive[], target = new MemoryStore()) {
  const reports = [];
  for (const d of prepared) reports.push(await importDrive(d.path, d, target));
  return { target, reports };
}

for (const kind of ['directory', 'image'] as const)
  describe(`drive envelope on ${kind === 'image' ? 'image files' : 'mounted directories'}`, () => {
    it('spans drives, and the import reproduces the staged repository exactly', async (t) => {
      const s = await stagedBackup(t, kind);
      const result = await prepareDrives({
        staging: s.staging,
        jobName: 'seed-1',
        drives: s.drives.map((path) => ({ path, capacity: s.spanCapacity })),
        stateDir: s.stateDir,
      });
      assert.equal(result.remainingFiles, 0);
      assert.ok(result.drives.length >= 2, `used ${result.drives.length} drives`);
      const { target, reports } = await importAll(result.drives);
      for (const r of reports) assert.deepEqual(r.problems, []);
      const staged = (await listAll(s.staging, '')).sort((a, b) => a.name.localeCompare(b.name));
      const imported = (await listAll(target, '')).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(imported, staged);
      for (const f of staged) assert.ok((await target.get(f.name)).equals(await s.staging.get(f.name)), f.name);
      const report = await checkRepository(await Repository.open(target, PASSWORD), { readData: true });
      assert.deepEqual(report.problems, []);
    });

    it('puts nothing secret in clear on a drive', async (t) => {
      const s = await stagedBackup(t, kind);
      const result = await prepareDrives({ staging: s.staging, jobName: 'seed-2', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
      const drive = result.drives[0];
      const everything = await everythingOn(drive.path);
      assert.ok(!everything.includes(Buffer.from(drive.key, 'base64')), 'the drive key is not on the drive');
      assert.ok(!everything.includes(Buffer.from('driveseed-repository')), 'not even the repository config is readable');
      const staged = await listAll(s.staging, 'snapshots/');
      assert.ok(!everything.includes(Buffer.from(staged[0].name.split('/')[1])), 'file names are inside the sealed manifest only');
    });

    it('a flipped byte is named by file and block; the rest of the drive imports', async (t) => {
      const s = await stagedBackup(t, kind);
      const result = await prepareDrives({ staging: s.staging, jobName: 'seed-3', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
      const drive = result.drives[0];
      const payload = await payloadOf(drive);
      const victim = payload.reduce((a, b) => (b.length > a.length ? b : a));
      await flipBit(drive.path, victim.storedAs, 5 * 1024 * 1024);
      const { reports, target } = await importAll(result.drives);
      assert.equal(reports[0].problems.length, 1);
      assert.equal(reports[0].problems[0].block, 1);
      assert.match(reports[0].problems[0].reason, /does not decrypt/);
      assert.equal(reports[0].filesImported, payload.length - 1);
      assert.equal(await target.exists(reports[0].problems[0].file!), false, 'a damaged file is not written half');
    });

    if (kind === 'directory')
      it('a truncated file and a missing file are named', async (t) => {
        const s = await stagedBackup(t);
        const result = await prepareDrives({ staging: s.staging, jobName: 'seed-4', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
        const payload = (await readdir(join(s.drives[0], 'payload'))).sort();
        await truncate(join(s.drives[0], 'payload', payload[0]), 10);
        await rm(join(s.drives[0], 'payload', payload[1]));
        const { reports } = await importAll(result.drives);
        const reasons = reports[0].problems.map((p) => p.reason).sort();
        assert.equal(reasons.length, 2);
        assert.match(reasons.join('|'), /missing from the drive/);
        assert.match(reasons.join('|'), /truncated/);
      });

    it("refuses a wrong key, a missing or altered manifest, and another job's drive", async (t) => {
      const s = await stagedBackup(t, kind);
      const result = await prepareDrives({
        staging: s.staging,
        jobName: 'seed-5',
        drives: s.drives.slice(0, 2).map((path) => ({ path, capacity: s.spanCapacity })),
        stateDir: s.stateDir,
      });
      const [one, two] = result.drives;
      await assert.rejects(importDrive(one.path, { ...one, key: randomBytes(32).toString('base64') }, new MemoryStore()), /does not open: wrong drive key/);
      await assert.rejects(importDrive(two.path, one, new MemoryStore()), /drive id mismatch/);
      if (kind === 'image') {
        await flipBit(one.path, MANIFEST_FILE, 40);
        await assert.rejects(importDrive(one.path, one, new MemoryStore()), /manifest corrupted/);
        await truncate(one.path, (await stat(one.path)).size - 3000);
        await assert.rejects(importDrive(one.path, one, new MemoryStore()), /manifest (missing|corrupted)/);
        await writeFile(one.path, 'not a drive');
        await assert.rejects(importDrive(one.path, one, new MemoryStore()), /volume not found/);
        return;
      }
      const manifest = await readFile(join(one.path, MANIFEST_FILE));
      manifest[manifest.length - 1] ^= 1;
      await writeFile(join(one.path, MANIFEST_FILE), manifest);
      await assert.rejects(importDrive(one.path, one, new MemoryStore()), /manifest corrupted/);
      await rm(join(one.path, MANIFEST_FILE));
      await assert.rejects(importDrive(one.path, one, new MemoryStore()), /manifest missing/);
      await rm(join(one.path, HEADER_FILE));
      await assert.rejects(importDrive(one.path, one, new MemoryStore()), /volume not found/);
    });

    it('a killed run resumes without recopying what its journal lists', async (t) => {
      const s = await stagedBackup(t, kind);
      const staged = await listAll(s.staging, '');
      // Simulate a kill after a few files: a store that fails the sixth read. Not an FsStore,
      // so both runs take the in-process path; the real kill -9 of the worker path is in test/offline-seeding.
      let reads = 0;
      const read: string[] = [];
      const through = (failAt: number): BlobStore => ({
        location: s.staging.location,
        get: async (name, range) => {
          if (++reads === failAt) throw new Error('killed');
          read.push(name);
          return s.staging.get(name, range);
        },
        put: (name, data) => s.staging.put(name, data),
        stat: (name) => s.staging.stat(name),
        exists: (name) => s.staging.exists(name),
        list: (prefix) => s.staging.list(prefix),
        delete: (name) => s.staging.delete(name),
      });
      await assert.rejects(
        prepareDrives({ staging: through(6), jobName: 'seed-6', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir }),
        /killed/,
      );
      const journalFile = (await readdir(s.stateDir)).find((f) => f.endsWith('.journal'))!;
      const journaled = (await readFile(join(s.stateDir, journalFile), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as ManifestFile).name);
      assert.ok(journaled.length > 0, 'the killed run journaled some files');
      read.length = 0;
      const result = await prepareDrives({ staging: through(-1), jobName: 'seed-6', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
      assert.equal(result.drives[0].files, staged.length);
      for (const name of journaled) assert.ok(!read.includes(name), `${name} was not copied again`);
      const { reports, target } = await importAll(result.drives);
      assert.deepEqual(reports[0].problems, []);
      assert.equal((await listAll(target, '')).length, staged.length);
    });

    it('a run killed before its first file was journaled, the drive header half written, starts that drive over', async (t) => {
      const s = await stagedBackup(t, kind);
      const failing: BlobStore = {
        location: s.staging.location,
        get: async () => Promise.reject(new Error('killed')),
        put: (name, data) => s.staging.put(name, data),
        stat: (name) => s.staging.stat(name),
        exists: (name) => s.staging.exists(name),
        list: (prefix) => s.staging.list(prefix),
        delete: (name) => s.staging.delete(name),
      };
      await assert.rejects(
        prepareDrives({ staging: failing, jobName: 'early', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir }),
        /killed/,
      );
      // What a kill -9 in the middle of writing the header leaves.
      if (kind === 'image') await truncate(s.drives[0], 100);
      else await writeFile(join(s.drives[0], HEADER_FILE), '{"format":');
      const result = await prepareDrives({ staging: s.staging, jobName: 'early', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
      const { reports, target } = await importAll(result.drives);
      assert.deepEqual(reports[0].problems, []);
      assert.equal((await listAll(target, '')).length, (await listAll(s.staging, '')).length);
    });

    if (kind === 'directory')
      it('refuses a drive too small for one file, a non-empty drive, a missing drive, an 11th drive', async (t) => {
        const s = await stagedBackup(t);
        await assert.rejects(
          prepareDrives({ staging: s.staging, jobName: 'small', drives: [{ path: s.drives[0], capacity: 1024 * 1024 + 100 }], stateDir: s.stateDir }),
          /too small for even one file/,
        );
        await writeFile(join(s.drives[1], 'somebody-elses-file'), 'x');
        await assert.rejects(
          prepareDrives({ staging: s.staging, jobName: 'busy', drives: [{ path: s.drives[1], capacity: 1e9 }], stateDir: s.stateDir }),
          (e) => isDriveseedError(e, 'USAGE') && /not empty/.test((e as Error).message),
        );
        assert.deepEqual(await readdir(s.drives[1]), ['somebody-elses-file'], 'nothing written');
        await assert.rejects(
          prepareDrives({ staging: s.staging, jobName: 'gone', drives: [{ path: join(s.dir, 'no-such-drive'), capacity: 1e9 }], stateDir: s.stateDir }),
          /is not there/,
        );
        await assert.rejects(
          prepareDrives({ staging: s.staging, jobName: 'huge', drives: [{ path: s.drives[2], capacity: 11e12 }], stateDir: s.stateDir }),
          /larger than 10 TB/,
        );
        // Thirteen small files on drives that hold one each: the eleventh drive is refused.
        const small = new MemoryStore();
        await small.put('config', Buffer.from('{}'));
        for (let i = 0; i < 12; i++) await small.put(`data/0${i % 10}/${String(i).padStart(64, '0')}`, randomBytes(1000));
        const many = [];
        for (let i = 0; i < 11; i++) {
          const path = join(s.dir, `tiny${i}`);
          await mkdir(path);
          many.push({ path, capacity: 1024 * 1024 + 1100 });
        }
        await assert.rejects(prepareDrives({ staging: small, jobName: 'eleven', drives: many, stateDir: s.stateDir }), /at most 10 drives/);
      });
  });

describe('drive images', () => {
  it('are ustar archives that tar lists and extracts into the directory layout, which imports the same', async (t) => {
    const s = await stagedBackup(t, 'image');
    const result = await prepareDrives({ staging: s.staging, jobName: 'tar-1', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
    const listed = execFileSync('tar', ['tf', s.drives[0]], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listed[0], HEADER_FILE);
    assert.equal(listed.at(-1), MANIFEST_FILE);
    assert.equal(listed.length, result.drives[0].files + 2);
    const extracted = join(s.dir, 'extracted');
    await mkdir(extracted);
    execFileSync('tar', ['xf', s.drives[0], '-C', extracted]);
    const report = await importDrive(extracted, result.drives[0], new MemoryStore());
    assert.deepEqual(report.problems, []);
    assert.equal(report.filesImported, result.drives[0].files);
  });

  it("keep the size of a pre-sized blank image, refuse somebody's file, and are refused when too small", async (t) => {
    const s = await stagedBackup(t, 'image');
    await writeFile(s.drives[0], Buffer.alloc(64 * 1024 * 1024));
    const result = await prepareDrives({
      staging: s.staging,
      jobName: 'sized',
      drives: [{ path: s.drives[0], capacity: 64 * 1024 * 1024 }],
      stateDir: s.stateDir,
    });
    assert.equal((await stat(s.drives[0])).size, 64 * 1024 * 1024, 'a pre-sized image is written inside its size');
    assert.deepEqual((await importDrive(s.drives[0], result.drives[0], new MemoryStore())).problems, []);
    await writeFile(s.drives[1], 'a letter somebody keeps\n');
    await assert.rejects(
      prepareDrives({ staging: s.staging, jobName: 'busy', drives: [{ path: s.drives[1], capacity: 1e9 }], stateDir: s.stateDir }),
      /not empty/,
    );
    assert.equal(await readFile(s.drives[1], 'utf8'), 'a letter somebody keeps\n', 'nothing written');
    await assert.rejects(
      prepareDrives({ staging: s.staging, jobName: 'small', drives: [{ path: s.drives[2], capacity: 1024 * 1024 + 100 }], stateDir: s.stateDir }),
      /too small for even one file/,
    );
    await assert.rejects(stat(s.drives[2]), /ENOENT/, 'no image made for a refused drive');
    await assert.rejects(
      prepareDrives({ staging: s.staging, jobName: 'typo', drives: [{ path: join(s.dir, 'no-such-dir', 'x.img'), capacity: 1e9 }], stateDir: s.stateDir }),
      /is not there/,
    );
  });
});

describe('drive envelope versions', () => {
  it('a version 1 drive (a SHA-256 per block) still imports; an unknown or mixed version is refused', async (t) => {
    const s = await stagedBackup(t);
    const [drive] = (await prepareDrives({ staging: s.staging, jobName: 'v1', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir })).drives;
    // Rewrite the drive as version 1 wrote it: plaintext hashes in the manifest, version 1 in header and manifest.
    const key = Buffer.from(drive.key, 'base64');
    const manifest = openManifest(key, drive.driveId, await readFile(join(drive.path, MANIFEST_FILE)));
    for (const file of manifest.files) {
      const sealed = await readFile(join(drive.path, file.storedAs));
      file.blocks = file.blocks.map((_, i) => {
        const start = i * (BLOCK_SIZE + SEAL_OVERHEAD);
        const length = Math.min(BLOCK_SIZE, file.length - i * BLOCK_SIZE) + SEAL_OVERHEAD;
        return sha256(openSealed(key, sealed.subarray(start, start + length), blockAad(drive.driveId, file.storedAs, i), 'block'));
      });
    }
    const v1Manifest = sealManifest(key, { ...manifest, version: 1 });
    await writeFile(join(drive.path, MANIFEST_FILE), v1Manifest);
    const header = JSON.parse(await readFile(join(drive.path, HEADER_FILE), 'utf8'));
    await writeFile(join(drive.path, HEADER_FILE), JSON.stringify({ ...header, version: 1 }));
    const v1 = { ...drive, manifestSha256: sha256(v1Manifest) };
    assert.deepEqual((await importDrive(drive.path, v1, new MemoryStore())).problems, []);
    await writeFile(join(drive.path, HEADER_FILE), JSON.stringify({ ...header, version: 3 }));
    await assert.rejects(importDrive(drive.path, v1, new MemoryStore()), /envelope version 3 is not supported/);
    await writeFile(join(drive.path, HEADER_FILE), JSON.stringify({ ...header, version: 2 }));
    await assert.rejects(importDrive(drive.path, v1, new MemoryStore()), /header says envelope version 2, its manifest 1/);
  });
});

describe('a drive that fills up', () => {
  it('stops with "drive … is full", keeps what is journaled, and a rerun with a smaller capacity and another drive completes', async (t) => {
    const s = await stagedBackup(t);
    // A real full file system: a tmpfs a little larger than one file, that diskprep is told holds a gigabyte.
    const small = join(s.dir, 'small');
    await mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(s.largest / 1024 / 1024) + 3}m`, 'tmpfs', small], { stdio: 'ignore' });
    } catch {
      t.skip('mounting a tmpfs needs root');
      return;
    }
    try {
      await assert.rejects(
        prepareDrives({ staging: s.staging, jobName: 'full', drives: [{ path: small, capacity: 1e9 }], stateDir: s.stateDir }),
        (e) => isDriveseedError(e, 'IO') && /drive .*small is full/.test((e as Error).message),
      );
      const result = await prepareDrives({
        staging: s.staging,
        jobName: 'full',
        drives: [
          { path: small, capacity: s.largest + 2 * 1024 * 1024 },
          { path: s.drives[1], capacity: 1e9 },
        ],
        stateDir: s.stateDir,
      });
      assert.equal(result.remainingFiles, 0);
      assert.equal(result.drives.length, 2);
      const { target, reports } = await importAll(result.drives);
      for (const r of reports) assert.deepEqual(r.problems, []);
      assert.deepEqual((await listAll(target, '')).map((f) => f.name).sort(), (await listAll(s.staging, '')).map((f) => f.name).sort());
    } finally {
      execFileSync('umount', [small]);
    }
  });
});
