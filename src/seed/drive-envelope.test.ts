import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
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
import { HEADER_FILE, MANIFEST_FILE } from './envelope-format.js';

const PASSWORD = 'seed password';

/** A staging directory holding a real first backup, with enough data to need two drives. */
async function stagedBackup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'envelope-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  await writeSampleTree(data, 3, 40);
  await writeFile(join(data, 'noise'), randomBytes(20 * 1024 * 1024));
  const staging = new FsStore(join(dir, 'staging'));
  const repo = await Repository.init(staging, PASSWORD);
  await backup(repo, { paths: [data] });
  const drives = [join(dir, 'drive1'), join(dir, 'drive2'), join(dir, 'drive3')];
  for (const d of drives) await mkdir(d);
  return { dir, staging, drives, stateDir: join(dir, 'state') };
}

async function importAll(prepared: PreparedDrive[], target = new MemoryStore()) {
  const reports = [];
  for (const d of prepared) reports.push(await importDrive(d.path, d, target));
  return { target, reports };
}

describe('drive envelope', () => {
  it('spans drives, and the import reproduces the staged repository exactly', async (t) => {
    const s = await stagedBackup(t);
    const result = await prepareDrives({ staging: s.staging, jobName: 'seed-1', drives: s.drives.map((path) => ({ path, capacity: 18 * 1024 * 1024 })), stateDir: s.stateDir });
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
    const s = await stagedBackup(t);
    const result = await prepareDrives({ staging: s.staging, jobName: 'seed-2', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
    const drive = result.drives[0];
    const files = await readdir(drive.path, { recursive: true });
    const everything = Buffer.concat(await Promise.all(files.map((f) => readFile(join(drive.path, f)).catch(() => Buffer.alloc(0)))));
    assert.ok(!everything.includes(Buffer.from(drive.key, 'base64')), 'the drive key is not on the drive');
    assert.ok(!everything.includes(Buffer.from('driveseed-repository')), 'not even the repository config is readable');
    const staged = await listAll(s.staging, 'snapshots/');
    assert.ok(!everything.includes(Buffer.from(staged[0].name.split('/')[1])), 'file names are inside the sealed manifest only');
  });

  it('a flipped byte is named by file and block; the rest of the drive imports', async (t) => {
    const s = await stagedBackup(t);
    const result = await prepareDrives({ staging: s.staging, jobName: 'seed-3', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
    const drive = result.drives[0];
    const payload = (await readdir(join(drive.path, 'payload'))).sort();
    const sizes = await Promise.all(payload.map(async (p) => (await stat(join(drive.path, 'payload', p))).size));
    const victim = payload[sizes.indexOf(Math.max(...sizes))];
    const bytes = await readFile(join(drive.path, 'payload', victim));
    bytes[5 * 1024 * 1024] ^= 1;
    await writeFile(join(drive.path, 'payload', victim), bytes);
    const { reports, target } = await importAll(result.drives);
    assert.equal(reports[0].problems.length, 1);
    assert.equal(reports[0].problems[0].block, 1);
    assert.match(reports[0].problems[0].reason, /does not decrypt/);
    assert.equal(reports[0].filesImported, payload.length - 1);
    assert.equal(await target.exists(reports[0].problems[0].file!), false, 'a damaged file is not written half');
  });

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

  it('refuses a wrong key, a missing or altered manifest, and another job\'s drive', async (t) => {
    const s = await stagedBackup(t);
    const result = await prepareDrives({ staging: s.staging, jobName: 'seed-5', drives: s.drives.slice(0, 2).map((path) => ({ path, capacity: 18 * 1024 * 1024 })), stateDir: s.stateDir });
    const [one, two] = result.drives;
    await assert.rejects(importDrive(one.path, { ...one, key: randomBytes(32).toString('base64') }, new MemoryStore()), /does not open: wrong drive key/);
    await assert.rejects(importDrive(two.path, one, new MemoryStore()), /drive id mismatch/);
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
    const s = await stagedBackup(t);
    const staged = await listAll(s.staging, '');
    // Simulate a kill after a few files: a store that fails the sixth read.
    let reads = 0;
    // Not an FsStore, so this run takes the in-process path; the real kill -9 of the worker path is in test/offline-seeding.
    const failing: BlobStore = {
      location: s.staging.location,
      get: async (name, range) => {
        if (++reads === 6) throw new Error('killed');
        return s.staging.get(name, range);
      },
      put: (name, data) => s.staging.put(name, data),
      stat: (name) => s.staging.stat(name),
      exists: (name) => s.staging.exists(name),
      list: (prefix) => s.staging.list(prefix),
      delete: (name) => s.staging.delete(name),
    };
    await assert.rejects(prepareDrives({ staging: failing, jobName: 'seed-6', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir }), /killed/);
    const copiedBefore = new Map<string, number>();
    for (const f of await readdir(join(s.drives[0], 'payload'))) copiedBefore.set(f, (await stat(join(s.drives[0], 'payload', f))).mtimeMs);
    const result = await prepareDrives({ staging: s.staging, jobName: 'seed-6', drives: [{ path: s.drives[0], capacity: 1e9 }], stateDir: s.stateDir });
    assert.equal(result.drives[0].files, staged.length);
    const journaled = [...copiedBefore.keys()].sort().slice(0, -1);
    for (const f of journaled) assert.equal((await stat(join(s.drives[0], 'payload', f))).mtimeMs, copiedBefore.get(f), `${f} was not copied again`);
    const { reports } = await importAll(result.drives);
    assert.deepEqual(reports[0].problems, []);
  });

  it('refuses a drive too small for one file, a non-empty drive, a missing drive, an 11th drive', async (t) => {
    const s = await stagedBackup(t);
    await assert.rejects(prepareDrives({ staging: s.staging, jobName: 'small', drives: [{ path: s.drives[0], capacity: 1024 * 1024 + 100 }], stateDir: s.stateDir }), /too small for even one file/);
    await writeFile(join(s.drives[1], 'somebody-elses-file'), 'x');
    await assert.rejects(prepareDrives({ staging: s.staging, jobName: 'busy', drives: [{ path: s.drives[1], capacity: 1e9 }], stateDir: s.stateDir }), (e) => isDriveseedError(e, 'USAGE') && /not empty/.test((e as Error).message));
    assert.deepEqual(await readdir(s.drives[1]), ['somebody-elses-file'], 'nothing written');
    await assert.rejects(prepareDrives({ staging: s.staging, jobName: 'gone', drives: [{ path: join(s.dir, 'no-such-drive'), capacity: 1e9 }], stateDir: s.stateDir }), /is not there/);
    await assert.rejects(prepareDrives({ staging: s.staging, jobName: 'huge', drives: [{ path: s.drives[2], capacity: 11e12 }], stateDir: s.stateDir }), /larger than 10 TB/);
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
