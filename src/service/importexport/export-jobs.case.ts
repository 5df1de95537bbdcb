import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenedDatabase } from '../db/open-database.js';
import type { ServerTable } from '../db/schema.js';
import { createSubscription } from '../identity/subscriptions.js';
import { createApplication } from '../identity/applications.js';
import { ensureVault, finishJob, registerServer, startJob } from '../vault/vaults.js';
import { createSelfSignedCertificate } from '../../core/certificates/certificate-factory.js';
import { DriveseedError } from '../../core/errors.js';
import { MemoryStore } from '../../core/storage/memory/memory-store.js';
import { httpStatusOf } from '../../api/wire-errors.js';
import { ensureStorageAccount } from '../accounts/storage-accounts.js';
import { createImportJob, setShipping } from './import-jobs.js';
import { shipping } from './import-jobs.case.js';
import {
  addExportPacks,
  applyExportDeadlines,
  cancelExportJob,
  createExportJob,
  findExportJob,
  finishExportTransfer,
  getExportJob,
  recordExportDrive,
  setExportShipping,
  shipBackExport,
  startExportTransfer,
} from './export-jobs.js';
import { DAY_MS } from './states.js';

const rejectsWith = (status: number, message?: RegExp) => (e: unknown) =>
  e instanceof DriveseedError && httpStatusOf(e.code) === status && (message === undefined || message.test(e.message));
const hex = () => randomBytes(32).toString('hex');
const packName = (id = hex()) => `data/${id.slice(0, 2)}/${id}`;

/** Export jobs' states, checks and deadlines, run against each database. */
export function exportJobSuite(name: string, databaseUrl: (dir: string) => Promise<string>): void {
  describe(`export jobs on ${name}`, () => {
    let dir: string;
    let database: OpenedDatabase;
    let sub: string;
    let server: ServerTable;
    let snapshotId: string;
    const repository = new MemoryStore();
    const packs = [packName(), packName(), packName()];
    const t0 = new Date('2026-11-01T12:00:00Z');
    const later = (days: number) => new Date(t0.getTime() + days * DAY_MS);

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'export-jobs-'));
      database = await openDatabase(await databaseUrl(dir));
      const db = database.db;
      sub = (await createSubscription(db, 'test', t0)).id;
      await ensureVault(db, sub, 'main', t0);
      const certificate = await createSelfSignedCertificate('srv', 30);
      const application = await createApplication(db, sub, 'srv', certificate.certificatePem, t0);
      const registered = await registerServer(db, sub, 'main', 'srv', application.id, t0);
      server = await db.selectFrom('servers').selectAll().where('id', '=', registered.id).executeTakeFirstOrThrow();
      snapshotId = hex();
      const job = await startJob(db, server, 'online', t0);
      await finishJob(
        db,
        server,
        job.id,
        {
          state: 'Completed',
          filesNew: 1,
          filesChanged: 0,
          filesUnchanged: 0,
          bytesRead: 1,
          bytesSent: 1,
          warnings: 0,
          recoveryPoint: { snapshotId, time: t0.toISOString(), totalBytes: 1, files: 1 },
        },
        t0,
      );
      for (const [name, size] of [
        ['config', 10],
        ['keys/k1', 20],
        [`index/${hex()}`, 30],
        [`snapshots/${snapshotId}`, 40],
        ...packs.map((p): [string, number] => [p, 1000]),
      ] as [string, number][])
        await repository.put(name, Buffer.alloc(size));
    });
    after(async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    });

    const create = (jobName: string, names = packs.slice(0, 2), at = t0) =>
      createExportJob(database.db, repository, server, { name: jobName, snapshotId, packs: names }, at);

    it("carries the named packs and the repository's metadata; packs come in batches while it is Creating", async () => {
      const job = await create('exp-a');
      assert.equal(job.state, 'Creating');
      assert.equal(job.files, 6, 'config, a key, an index file, the snapshot and two packs');
      assert.equal(job.bytes, 10 + 20 + 30 + 40 + 2000);
      assert.equal(job.deadline?.at, later(14).toISOString());
      const more = await addExportPacks(database.db, repository, server, 'exp-a', [packs[1], packs[2]]);
      assert.equal(more.files, 7, 'a pack named twice is kept once');
      await assert.rejects(create('exp-a'), rejectsWith(409, /exists already/));
      await assert.rejects(create('Bad Name'), rejectsWith(400));
      await assert.rejects(create('exp-missing', [packName()]), rejectsWith(404, /is not in server srv's repository/));
      await assert.rejects(
        createExportJob(database.db, repository, server, { name: 'exp-nopoint', snapshotId: hex(), packs }, t0),
        rejectsWith(404, /no recovery point/),
      );
    });

    it('goes Creating → Shipping → Received → Transferring → Packaging → Completed, its drives Completed then ShippedBack', async () => {
      await create('exp-b');
      await assert.rejects(startExportTransfer(database.db, (await findExportJob(database.db, 'exp-b'))!, t0), rejectsWith(409, /no shipping details/));
      const shipped = await setExportShipping(database.db, server, 'exp-b', shipping('EXP-B'), later(1));
      assert.equal(shipped.state, 'Shipping');
      assert.equal(shipped.deadline?.at, later(15).toISOString());
      await assert.rejects(addExportPacks(database.db, repository, server, 'exp-b', [packs[2]]), rejectsWith(409, /its packs are fixed/));
      const row = (await findExportJob(database.db, 'exp-b'))!;
      await startExportTransfer(database.db, row, later(3));
      const drive = { driveId: crypto.randomUUID(), key: 'a2V5', manifestSha256: 'f'.repeat(64), files: 6, bytes: 2100 };
      await recordExportDrive(database.db, row, drive, later(3));
      await recordExportDrive(database.db, row, drive, later(3));
      await finishExportTransfer(database.db, row, later(3));
      assert.equal((await getExportJob(database.db, sub, 'exp-b')).state, 'Packaging');
      assert.equal(await shipBackExport(database.db, row, 'RET-B', later(4)), 'Completed');
      const done = await getExportJob(database.db, sub, 'exp-b', { withKeys: true });
      assert.deepEqual(
        done.history.map((h) => h.state),
        ['Creating', 'Shipping', 'Received', 'Transferring', 'Packaging', 'Completed'],
      );
      assert.deepEqual(
        done.drives[0].history.map((h) => h.state),
        ['Received', 'Transferring', 'Completed', 'ShippedBack'],
      );
      assert.equal(done.drives[0].key, 'a2V5', "the customer's key is kept: the drives are read after they come back");
      assert.equal((await getExportJob(database.db, sub, 'exp-b')).drives[0].key, undefined, 'and shown only when asked for');
      assert.equal(done.returnTrackingNumber, 'RET-B');
      await assert.rejects(shipBackExport(database.db, row, undefined, later(5)), rejectsWith(409, /an export job in state Completed cannot become Completed/));
    });

    it('a tracking number names one package of one job, import or export', async () => {
      await ensureStorageAccount(database.db, sub, 'acct', t0);
      await createImportJob(
        database.db,
        sub,
        {
          name: 'seed',
          storageAccount: 'acct',
          container: 'c',
          drives: [{ driveId: crypto.randomUUID(), key: 'a2V5', manifestSha256: 'f'.repeat(64), files: 1, bytes: 1 }],
        },
        t0,
      );
      await setShipping(database.db, sub, 'seed', shipping('SHARED-1'), t0);
      await create('exp-c');
      await assert.rejects(setExportShipping(database.db, server, 'exp-c', shipping('SHARED-1'), t0), rejectsWith(409, /belongs to another job/));
      assert.equal((await getExportJob(database.db, sub, 'exp-c')).state, 'Creating');
      await create('exp-d');
      await setExportShipping(database.db, server, 'exp-d', shipping('EXP-D'), t0);
      await assert.rejects(setExportShipping(database.db, server, 'exp-c', shipping('EXP-D'), t0), rejectsWith(409, /belongs to another job/));
      await createImportJob(
        database.db,
        sub,
        {
          name: 'seed-2',
          storageAccount: 'acct',
          container: 'c',
          drives: [{ driveId: crypto.randomUUID(), key: 'a2V5', manifestSha256: 'f'.repeat(64), files: 1, bytes: 1 }],
        },
        t0,
      );
      await assert.rejects(setShipping(database.db, sub, 'seed-2', shipping('EXP-D'), t0), rejectsWith(409, /belongs to another export job/));
      // Shipped blank drives cannot be canceled away, as in Azure: a Creating job can.
      await assert.rejects(cancelExportJob(database.db, server, 'exp-d', t0), rejectsWith(409, /Shipping cannot become Canceled/));
      assert.equal((await cancelExportJob(database.db, server, 'exp-c', t0)).state, 'Canceled');
    });

    it('Creating jobs expire after 14 days; finished ones are deleted after 90', async () => {
      await create('exp-old', packs.slice(0, 1), later(-20));
      const swept = await applyExportDeadlines(database.db, later(1));
      assert.ok(swept.expired >= 1);
      assert.equal(await findExportJob(database.db, 'exp-old'), undefined);
      assert.ok((await findExportJob(database.db, 'exp-b')) !== undefined, 'a job completed 4 days ago stays');
      await applyExportDeadlines(database.db, later(100));
      assert.equal(await findExportJob(database.db, 'exp-b'), undefined);
    });
  });
}
