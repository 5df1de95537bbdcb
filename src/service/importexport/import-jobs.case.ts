import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenedDatabase } from '../db/open-database.js';
import { createSubscription } from '../identity/subscriptions.js';
import { DriveseedError } from '../../core/errors.js';
import { httpStatusOf } from '../../api/wire-errors.js';
import type { ShippingDetails } from '../../api/schemas.js';
import { ensureContainer, ensureStorageAccount } from '../accounts/storage-accounts.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import {
  applyDeadlines,
  cancelImportJob,
  createImportJob,
  driveLogs,
  finishDrive,
  getImportJob,
  receiveDrive,
  setShipping,
  shipBack,
  startDriveTransfer,
  type NewDrive,
} from './import-jobs.js';
import { DAY_MS } from './states.js';
import { CLAIM_STALE_MS, claimNext, enqueueDrive, pendingDrives } from '../datacenter/import-queue.js';

const drive = (): NewDrive => ({ driveId: randomUUID(), key: 'a2V5', manifestSha256: 'f'.repeat(64), files: 3, bytes: 1000 });
/** Shipping details as the import API takes them (the export suite uses them too). */
export const shipping = (tracking: string): ShippingDetails => ({
  carrier: 'DHL',
  trackingNumber: tracking,
  shipDate: '2026-11-24',
  contactName: 'A. Admin',
  phone: '+31 20 123 4567',
  email: 'admin@example.org',
  returnAddress: 'Dam 1, Amsterdam',
  country: 'NL',
  postalCode: '1012 JS',
});
const rejectsWith = (status: number, field?: string) => (e: unknown) =>
  e instanceof DriveseedError && httpStatusOf(e.code) === status && (field === undefined || e.field === field);

/** The import service's states, limits and deadlines, run against each database. */
export function importJobSuite(name: string, databaseUrl: (dir: string) => Promise<string>): void {
  describe(`import jobs on ${name}`, () => {
    let dir: string;
    let database: OpenedDatabase;
    let sub: string;
    const t0 = new Date('2026-11-01T12:00:00Z');
    const later = (days: number) => new Date(t0.getTime() + days * DAY_MS);

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'import-jobs-'));
      database = await openDatabase(await databaseUrl(dir));
      sub = (await createSubscription(database.db, 'test', t0)).id;
      await ensureStorageAccount(database.db, sub, 'acct', t0);
    });
    after(async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    });

    const create = (jobName: string, drives = [drive()]) =>
      createImportJob(database.db, sub, { name: jobName, storageAccount: 'acct', container: 'seed', drives }, t0);

    it('creates a job in Creating with its deadline, and checks name and drive count', async () => {
      const job = await create('seed-a');
      assert.equal(job.state, 'Creating');
      assert.equal(job.deadline?.at, later(14).toISOString());
      await assert.rejects(create('Bad Name'), rejectsWith(400, 'name'));
      await assert.rejects(create('too-many', Array.from({ length: 11 }, drive)), rejectsWith(400, 'drives'));
      await assert.rejects(create('seed-a'), rejectsWith(409, 'name'));
    });

    it('takes only a storage account of its own subscription; account names are service-wide', async () => {
      const other = (await createSubscription(database.db, 'other', t0)).id;
      await assert.rejects(ensureStorageAccount(database.db, other, 'acct', t0), rejectsWith(409, 'storageAccount'));
      await ensureStorageAccount(database.db, other, 'otheracct', t0);
      await assert.rejects(
        createImportJob(database.db, sub, { name: 'stolen', storageAccount: 'otheracct', container: 'seed', drives: [drive()] }, t0),
        rejectsWith(404),
      );
      await assert.rejects(getImportJob(database.db, sub, 'stolen'), rejectsWith(404));
      const account = await ensureContainer(database.db, sub, 'acct', 'seed', t0);
      assert.deepEqual(
        account.containers.map((c) => c.name),
        ['seed'],
      );
    });

    it('knows a key the database already holds by its code, and two requests making one account both get it', async () => {
      const duplicate = database.db.insertInto('storage_accounts').values({ name: 'acct', subscription_id: sub, created_at: t0.toISOString() }).execute();
      await assert.rejects(duplicate, (e) => isUniqueViolation(e));
      assert.equal(isUniqueViolation(new Error('UNIQUE constraint failed: storage_accounts.name')), false, 'by its code, not its message');
      const [a, b] = await Promise.all([ensureStorageAccount(database.db, sub, 'raced', t0), ensureStorageAccount(database.db, sub, 'raced', t0)]);
      assert.deepEqual(a, b);
    });

    it('shipping details move it to Shipping; a tracking number of another job is refused and changes nothing', async () => {
      await create('ship-1');
      await create('ship-2');
      const shipped = await setShipping(database.db, sub, 'ship-1', shipping('TRACK-1'), later(1));
      assert.equal(shipped.state, 'Shipping');
      assert.equal(shipped.deadline?.what, 'drives must arrive by');
      assert.equal(shipped.deadline?.at, later(15).toISOString());
      await assert.rejects(setShipping(database.db, sub, 'ship-2', shipping('TRACK-1'), later(1)), rejectsWith(409, 'trackingNumber'));
      assert.equal((await getImportJob(database.db, sub, 'ship-2')).state, 'Creating');
      const corrected = await setShipping(database.db, sub, 'ship-1', { ...shipping('TRACK-1'), phone: '+31 6 0000 0000' }, later(2));
      assert.equal(corrected.shipping?.phone, '+31 6 0000 0000');
      assert.equal(corrected.shippedAt, later(1).toISOString(), 'a correction does not move the arrival deadline');
    });

    it('cancels only in Creating', async () => {
      await create('cancel-me');
      assert.equal((await cancelImportJob(database.db, sub, 'cancel-me', later(1))).state, 'Canceled');
      await create('shipped');
      await setShipping(database.db, sub, 'shipped', shipping('TRACK-C'), later(1));
      await assert.rejects(cancelImportJob(database.db, sub, 'shipped', later(2)), rejectsWith(409));
    });

    it('expires Creating jobs after 14 days and marks late drives NeverReceived; a late drive is still received', async () => {
      await create('forgotten');
      const late = drive();
      const job = await create('late-drive', [late, drive()]);
      await setShipping(database.db, sub, 'late-drive', shipping('TRACK-L'), later(1));
      const first = await applyDeadlines(database.db, later(14.5));
      assert.ok(first.expired >= 1);
      await assert.rejects(getImportJob(database.db, sub, 'forgotten'), rejectsWith(404));
      assert.equal(
        (await getImportJob(database.db, sub, 'late-drive')).drives.every((d) => d.state === 'Specified'),
        true,
        'within 14 days of shipping nothing is late',
      );
      await applyDeadlines(database.db, later(15.5));
      const after = await getImportJob(database.db, sub, 'late-drive');
      assert.deepEqual(
        after.drives.map((d) => d.state),
        ['NeverReceived', 'NeverReceived'],
      );
      await receiveDrive(database.db, job.id, late.driveId, later(16));
      const turnedUp = await getImportJob(database.db, sub, 'late-drive');
      assert.equal(turnedUp.drives.find((d) => d.driveId === late.driveId)?.state, 'Received');
      assert.equal(turnedUp.state, 'Received');
    });

    it('runs the whole import: Received, Transferring, Packaging, then Completed or Closed; deleted 90 days later', async () => {
      const [a, b] = [drive(), drive()];
      const clean = await create('clean', [a]);
      const messy = await create('messy', [b]);
      for (const [job, d, track] of [
        [clean, a, 'T-CLEAN'],
        [messy, b, 'T-MESSY'],
      ] as const) {
        await setShipping(database.db, sub, job.name, shipping(track), later(1));
        await receiveDrive(database.db, job.id, d.driveId, later(5));
        await startDriveTransfer(database.db, job.id, d.driveId, later(5));
        assert.equal((await getImportJob(database.db, sub, job.name)).state, 'Transferring');
      }
      await finishDrive(database.db, clean.id, a.driveId, { ok: true, errorLog: '', verboseLog: 'all good' }, later(6));
      await finishDrive(database.db, messy.id, b.driveId, { ok: false, errorLog: 'data/ab/ab…: block 1 does not decrypt', verboseLog: '' }, later(6));
      assert.equal((await getImportJob(database.db, sub, 'clean')).state, 'Packaging');
      assert.equal((await getImportJob(database.db, sub, 'messy')).drives[0].state, 'CompletedMoreInfo');
      assert.match((await driveLogs(database.db, sub, 'messy', b.driveId)).errorLog, /block 1/);
      assert.equal(await shipBack(database.db, clean.id, later(7)), 'Completed');
      assert.equal(await shipBack(database.db, messy.id, later(7)), 'Closed');
      const history = await getImportJob(database.db, sub, 'clean');
      assert.equal(history.drives[0].state, 'ShippedBack');
      assert.deepEqual(
        history.history.map((e) => e.state),
        ['Creating', 'Shipping', 'Received', 'Transferring', 'Packaging', 'Completed'],
      );
      assert.deepEqual(
        history.history.map((e) => e.at),
        [t0, later(1), later(5), later(5), later(6), later(7)].map((d) => d.toISOString()),
      );
      assert.deepEqual(
        history.drives[0].history.map((e) => e.state),
        ['Specified', 'Received', 'Transferring', 'Completed', 'ShippedBack'],
      );
      await applyDeadlines(database.db, later(96));
      assert.equal((await getImportJob(database.db, sub, 'clean')).state, 'Completed', '90 days have not passed yet');
      await applyDeadlines(database.db, later(98));
      await assert.rejects(getImportJob(database.db, sub, 'clean'), rejectsWith(404));
      await assert.rejects(getImportJob(database.db, sub, 'messy'), rejectsWith(404));
    });

    it('refuses moves the state machine does not allow', async () => {
      const d = drive();
      const job = await create('strict', [d]);
      await assert.rejects(startDriveTransfer(database.db, job.id, d.driveId, later(1)), rejectsWith(409));
      await assert.rejects(shipBack(database.db, job.id, later(1)), rejectsWith(409));
    });

    it('queues received drives so that concurrent workers claim each exactly once, and take over a stalled claim', async () => {
      const drives = [drive(), drive(), drive()];
      const job = await create('queued', drives);
      await setShipping(database.db, sub, job.name, shipping('T-QUEUE'), later(1));
      for (const d of drives) {
        await receiveDrive(database.db, job.id, d.driveId, later(2));
        await enqueueDrive(database.db, { driveId: d.driveId, jobId: job.id, path: `/mnt/${d.driveId}` }, later(2));
      }
      // Six workers race for three drives: every drive goes to exactly one.
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => claimNext(database.db, `elsewhere:${i}:w`, later(2), job.id)));
      const won = claims.filter((c) => c !== undefined);
      assert.equal(won.length, 3);
      assert.equal(new Set(won.map((c) => c!.drive_id)).size, 3);
      assert.equal(await claimNext(database.db, 'elsewhere:9:w', later(2), job.id), undefined, 'live claims are not taken');
      // A worker that stopped beating is presumed dead; its drive goes to another.
      const stalled = later(2).getTime() + CLAIM_STALE_MS + 1000;
      const takeover = await claimNext(database.db, 'elsewhere:10:w', new Date(stalled), job.id);
      assert.ok(takeover, 'a stale claim is taken over');
      assert.equal(await pendingDrives(database.db, job.id), 3);
    });
  });
}
