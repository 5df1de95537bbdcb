import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ServiceClient } from '../src/api/service-client.js';
import { startService } from '../src/service/start-service.js';
import { createImportJob, finishDrive, receiveDrive, shipBack, startDriveTransfer } from '../src/service/importexport/import-jobs.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { ensureStorageAccount } from '../src/service/accounts/storage-accounts.js';
import { freePort } from '../src/testing/azurite.js';
import { cliAsync, tempDir } from './cli-harness.js';
import { stopProcess } from './service-harness.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The mode bits of each database file there is: the db, its WAL and shared memory. */
async function databaseModes(dataDir: string): Promise<Record<string, string>> {
  const modes: Record<string, string> = {};
  for (const name of (await readdir(dataDir)).filter((n) => n.startsWith('driveseed.db'))) {
    modes[name] = ((await stat(join(dataDir, name))).mode & 0o777).toString(8);
  }
  return modes;
}

/** Runs `driveseed service start` until it exits or `ms` pass; a service that starts is stopped and counts as not refused. */
async function startOrRefuse(args: string[], ms: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = cliAsync(['service', 'start', ...args]);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdout!.on('data', (c) => (stdout += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const code = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms))]);
  if (code === 'running') {
    await stopProcess(child);
    return { code: null, stderr, stdout };
  }
  return { code, stderr, stdout };
}

describe('hostile local users: the service’s secrets at rest', () => {
  it('refuses a data directory other users can enter, in one line that says how to fix it, and creates nothing in it', async (t) => {
    const dataDir = join(await tempDir(t, 'secrets-'), 'shared');
    await mkdir(dataDir);
    await chmod(dataDir, 0o755);
    const port = await freePort();
    const refused = await startOrRefuse(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], 5000);
    assert.notEqual(refused.code, null, `the service started in a 0755 data directory: ${refused.stdout}`);
    assert.notEqual(refused.code, 0);
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0]!, /open to other users \(mode 0755\).*chmod 700 /);
    assert.deepEqual(await readdir(dataDir), [], 'no database, key or bootstrap file was written');

    await chmod(dataDir, 0o700);
    const started = await startOrRefuse(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], 3000);
    assert.equal(started.code, null, `fixed as told, it starts: ${started.stderr}`);
  });

  it('keeps the database, its WAL and shared memory 0600 under umask 000, and fixes files an older version left 0644', async (t) => {
    const dataDir = join(await tempDir(t, 'secrets-'), 'service');
    const umask = process.umask(0);
    t.after(() => void process.umask(umask));
    let service = await startService({ dataDir, listen: '127.0.0.1:0', importWorker: false });
    t.after(() => service.stop());
    const modes = await databaseModes(dataDir);
    assert.deepEqual(Object.keys(modes).sort(), ['driveseed.db', 'driveseed.db-shm', 'driveseed.db-wal']);
    assert.deepEqual(Object.values(modes), ['600', '600', '600'], JSON.stringify(modes));
    assert.equal(((await stat(dataDir)).mode & 0o777).toString(8), '700');
    assert.equal(((await stat(join(dataDir, 'bootstrap.json'))).mode & 0o777).toString(8), '600');
    await service.stop();

    for (const name of Object.keys(await databaseModes(dataDir))) await chmod(join(dataDir, name), 0o644);
    service = await startService({ dataDir, listen: '127.0.0.1:0', importWorker: false });
    for (const [name, mode] of Object.entries(await databaseModes(dataDir))) assert.equal(mode, '600', name);
    assert.equal((await fetch(`${service.url}/health`)).status, 200);
  });

  it("forgets a drive's key once its import is over: not in its row, not in the database file", async (t) => {
    const dataDir = join(await tempDir(t, 'secrets-'), 'service');
    const service = await startService({ dataDir, listen: '127.0.0.1:0', importWorker: false });
    t.after(() => service.stop());
    const { db } = service.database;
    const { subscriptionId, ownerKey } = service.bootstrap!;
    const owner = new ServiceClient(service.url, { ownerKey });
    await owner.request('ensureStorageAccount', { params: { subscriptionId, account: 'seedacct' } });
    const key = randomBytes(32).toString('base64');
    const driveId = randomUUID();
    const job = await owner.request('createImportJob', {
      params: { subscriptionId },
      body: { name: 'keyed', storageAccount: 'seedacct', container: 'seed', drives: [{ driveId, key, manifestSha256: 'a'.repeat(64), files: 1, bytes: 1 }] },
    });
    await owner.request('setShipping', {
      params: { subscriptionId, jobName: 'keyed' },
      body: {
        carrier: 'PostNL',
        trackingNumber: 'PNL-KEYS',
        shipDate: '2026-11-25',
        contactName: 'A. Admin',
        phone: '+31 20 123 4567',
        email: 'admin@example.org',
        returnAddress: 'Dam 1, Amsterdam',
        country: 'NL',
        postalCode: '1012 JS',
      },
    });
    const keyOf = async () => (await db.selectFrom('import_drives').select('drive_key').where('id', '=', driveId).executeTakeFirstOrThrow()).drive_key;
    const now = new Date();
    await receiveDrive(db, job.id, driveId, now);
    await startDriveTransfer(db, job.id, driveId, now);
    assert.equal(await keyOf(), key, 'the key is there while the drive can still be imported');
    await finishDrive(db, job.id, driveId, { ok: true, errorLog: '', verboseLog: '' }, now);
    assert.equal(await keyOf(), '', 'imported: the key is gone');
    await shipBack(db, job.id, now);
    assert.equal(await keyOf(), '');
    // A canceled job imports nothing: its drives' keys go at once.
    const canceledDrive = randomUUID();
    await owner.request('createImportJob', {
      params: { subscriptionId },
      body: {
        name: 'dropped',
        storageAccount: 'seedacct',
        container: 'seed',
        drives: [{ driveId: canceledDrive, key, manifestSha256: 'b'.repeat(64), files: 1, bytes: 1 }],
      },
    });
    await owner.request('cancelImportJob', { params: { subscriptionId, jobName: 'dropped' } });
    const canceled = await db.selectFrom('import_drives').select('drive_key').where('id', '=', canceledDrive).executeTakeFirstOrThrow();
    assert.equal(canceled.drive_key, '', 'canceled: the key is gone');
    // Written through to the file and the WAL emptied: the key's bytes are nowhere on disk.
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
    for (const name of ['driveseed.db', 'driveseed.db-wal']) {
      const bytes = await readFile(join(dataDir, name));
      assert.equal(bytes.includes(key), false, `${name} still holds the drive key`);
    }
  });

  it('forgets, on upgrade, the keys an older version kept of imported drives and ended jobs, and keeps those still needed', async (t) => {
    const dir = await tempDir(t, 'secrets-');
    const path = join(dir, 'driveseed.db');
    let database = await openDatabase(path);
    const { db } = database;
    const { id: subscriptionId } = await createSubscription(db, 'upgrade', new Date());
    await ensureStorageAccount(db, subscriptionId, 'seedacct', new Date());
    const drive = (driveId: string) => ({ driveId, key: randomBytes(32).toString('base64'), manifestSha256: 'c'.repeat(64), files: 1, bytes: 1 });
    const job = async (name: string) =>
      createImportJob(
        db,
        subscriptionId,
        { name, storageAccount: 'seedacct', container: 'seed', drives: [drive(randomUUID()), drive(randomUUID())] },
        new Date(),
      );
    // As an older version left them: keys kept whatever the state.
    const states: [string, string, string][] = [
      ['imported', 'Transferring', 'ShippedBack'],
      ['failed', 'Transferring', 'CompletedMoreInfo'],
      ['ended', 'Closed', 'NeverReceived'],
      ['canceled', 'Canceled', 'Specified'],
      ['waiting', 'Shipping', 'Specified'],
      ['importing', 'Transferring', 'Received'],
    ];
    const expected: { jobId: string; name: string; kept: boolean }[] = [];
    for (const [name, jobState, driveState] of states) {
      const made = await job(name);
      await db.updateTable('import_jobs').set({ state: jobState }).where('id', '=', made.id).execute();
      await db.updateTable('import_drives').set({ state: driveState }).where('job_id', '=', made.id).execute();
      expected.push({ jobId: made.id, name, kept: ['waiting', 'importing'].includes(name) });
    }
    await sql`DELETE FROM kysely_migration WHERE name = '0009_forget_settled_drive_keys'`.execute(db);
    await database.close();
    database = await openDatabase(path);
    t.after(() => database.close());
    for (const { jobId, name, kept } of expected) {
      const keys = await database.db.selectFrom('import_drives').select('drive_key').where('job_id', '=', jobId).execute();
      assert.deepEqual(
        keys.map((k) => k.drive_key !== ''),
        [kept, kept],
        `the ${name} job's keys ${kept ? 'are still needed' : 'are to be forgotten'}`,
      );
    }
  });

  it('with --log, the first start keeps the owner and operator keys out of the JSON log stream', async (t) => {
    const dir = await tempDir(t, 'secrets-');
    const dataDir = join(dir, 'service');
    const port = await freePort();
    // Every byte the service writes, from its first: the keys would be printed before it listens.
    const child = cliAsync(['service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--log']);
    t.after(() => stopProcess(child));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    while (!`${stdout}${stderr}`.includes('listening on')) {
      assert.equal(child.exitCode, null, `the service exited: ${stderr}`);
      await sleep(50);
    }
    // A request, so the log has lines of its own.
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    await sleep(200);
    await stopProcess(child);
    const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8')) as { ownerKey: string; operatorKey: string };
    assert.ok(bootstrap.ownerKey && bootstrap.operatorKey);
    const all = `${stdout}\n${stderr}`;
    assert.equal(all.includes(bootstrap.ownerKey), false, 'the owner key was printed');
    assert.equal(all.includes(bootstrap.operatorKey), false, 'the operator key was printed');
    assert.match(stderr, /bootstrap\.json/, 'the people starting it are told where the keys are');
    assert.ok(stdout.split('\n').filter(Boolean).length > 0, 'the log stream has records');
    for (const line of stdout.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `not a log record: ${line}`);
  });
});
