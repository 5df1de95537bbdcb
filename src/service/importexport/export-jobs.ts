import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import type { ExportDriveTable, ExportJobTable, ServerTable } from '../db/schema.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import type { ShippingDetails } from '../../api/schemas.js';
import { IMPORT_JOB_NAME, MAX_EXPORT_PACKS_PER_REQUEST, PACK_NAME_PATTERN } from '../../api/contract.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { CONFIG_FILE, INDEX_DIR, KEYS_DIR, SNAPSHOTS_DIR } from '../../core/repo/layout.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { mapLimited } from '../../core/util/semaphore.js';
import { assertDriveMove, assertJobMove, CREATING_TTL_MS, FINISHED_TTL_MS, jobDeadline, type DriveState, type JobState } from './states.js';
import { jobHoldingTrackingNumber } from './tracking-numbers.js';

const PACK_NAME = new RegExp(PACK_NAME_PATTERN);

export interface ExportDriveView {
  driveId: string;
  state: DriveState;
  files: number;
  bytes: number;
  stateChangedAt: string;
  history: { state: string; at: string }[];
  /** The drive's key and sealed manifest's hash: the customer's, to read the drive (absent in the console's view). */
  key?: string;
  manifestSha256?: string;
}

export interface ExportJobView {
  id: string;
  name: string;
  serverId: string;
  serverName: string;
  vaultName: string;
  snapshotId: string;
  state: JobState;
  createdAt: string;
  stateChangedAt: string;
  shippedAt?: string;
  shipping?: ShippingDetails;
  returnTrackingNumber?: string;
  deadline?: { what: string; at: string };
  /** What the drives will carry: repository files (ciphertext) and their bytes. */
  files: number;
  bytes: number;
  drives: ExportDriveView[];
  history: { state: string; at: string }[];
}

/**
 * Asks for an export of one recovery point of `server`. The agent, which holds the password,
 * names the packs the point needs; the service checks each is a pack of this server's own
 * repository (the store is the server's folder, from its database row, never from the
 * request) and adds the repository's metadata (config, keys, index, the point's snapshot)
 * itself, so a drive alone opens the repository. The data centre never needs the password.
 */
export async function createExportJob(
  db: Db,
  repository: BlobStore,
  server: ServerTable,
  input: { name: string; snapshotId: string; packs: string[] },
  now: Date,
): Promise<ExportJobView> {
  if (!IMPORT_JOB_NAME.test(input.name))
    throw new DriveseedError('USAGE', 'job names are lower-case letters, digits, - and _, starting with a letter', { field: 'name' });
  assertPackNames(input.packs);
  const point = await db.selectFrom('recovery_points').select('id').where('server_id', '=', server.id).where('id', '=', input.snapshotId).executeTakeFirst();
  if (!point) throw new DriveseedError('NOT_FOUND', `server ${server.name} has no recovery point ${input.snapshotId}`, { field: 'snapshotId' });
  const taken = await db
    .selectFrom('export_jobs')
    .select('id')
    .where('subscription_id', '=', server.subscription_id)
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (taken) throw new DriveseedError('CONFLICT', `an export job named ${input.name} exists already`, { field: 'name' });
  const packs = await sizedPacks(repository, server, input.packs);
  const metadata = await repositoryMetadata(repository, input.snapshotId);
  const id = randomUUID();
  const at = now.toISOString();
  try {
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('export_jobs')
        .values({
          id,
          subscription_id: server.subscription_id,
          name: input.name,
          server_id: server.id,
          snapshot_id: input.snapshotId,
          state: 'Creating',
          created_at: at,
          state_changed_at: at,
          shipped_at: null,
          shipping: null,
          tracking_number: null,
          return_tracking_number: null,
        })
        .execute();
      await tx.insertInto('export_events').values({ job_id: id, drive_id: null, state: 'Creating', at }).execute();
      await insertFiles(tx, id, [...metadata, ...packs]);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DriveseedError('CONFLICT', `an export job named ${input.name} exists already`, { field: 'name' });
    throw e;
  }
  return getExportJob(db, server.subscription_id, input.name);
}

/** More packs for a job still Creating (the list is frozen once the blank drives are on their way). */
export async function addExportPacks(db: Db, repository: BlobStore, server: ServerTable, name: string, packs: string[]): Promise<ExportJobView> {
  const job = await jobOfServer(db, server, name);
  if (job.state !== 'Creating') throw new DriveseedError('CONFLICT', `export job ${name} is ${job.state}: its packs are fixed`, { field: 'state' });
  const sized = await sizedPacks(repository, server, packs);
  const known = new Set((await db.selectFrom('export_files').select('name').where('job_id', '=', job.id).execute()).map((f) => f.name));
  await db.transaction().execute((tx) =>
    insertFiles(
      tx,
      job.id,
      sized.filter((p) => !known.has(p.name)),
    ),
  );
  return getExportJob(db, server.subscription_id, name);
}

/**
 * Each name must be a pack's (`../` or any other file is refused before the store is asked)
 * and in this server's repository: a pack of another server, or of another tenant, is not
 * there, and is named as missing, never read.
 */
async function sizedPacks(repository: BlobStore, server: ServerTable, names: string[]): Promise<{ name: string; size: number }[]> {
  if (names.length > MAX_EXPORT_PACKS_PER_REQUEST)
    throw new DriveseedError('TOO_LARGE', `at most ${MAX_EXPORT_PACKS_PER_REQUEST} packs a request; send the rest with more requests`, { field: 'packs' });
  assertPackNames(names);
  return mapLimited([...new Set(names)], 16, async (name) => {
    try {
      return { name, size: (await repository.stat(name)).size };
    } catch (e) {
      if (isDriveseedError(e, 'NOT_FOUND'))
        throw new DriveseedError('NOT_FOUND', `pack ${name} is not in server ${server.name}'s repository`, { field: 'packs' });
      throw e;
    }
  });
}

/** A name that is not a pack's (`../config`, another folder) is refused before any store is asked. */
function assertPackNames(names: string[]): void {
  const bad = names.find((n) => !PACK_NAME.test(n));
  if (bad !== undefined) throw new DriveseedError('USAGE', `${JSON.stringify(bad.slice(0, 100))} is not a pack name (data/XX/<64 hex>)`, { field: 'packs' });
}

/** What opens the repository on the drives: its config, every key, every index file and the point's snapshot. */
async function repositoryMetadata(repository: BlobStore, snapshotId: string): Promise<{ name: string; size: number }[]> {
  const files: { name: string; size: number }[] = [];
  files.push({ name: CONFIG_FILE, size: (await repository.stat(CONFIG_FILE)).size });
  for (const dir of [KEYS_DIR, INDEX_DIR]) for await (const info of repository.list(dir)) files.push({ name: info.name, size: info.size });
  const snapshot = `${SNAPSHOTS_DIR}${snapshotId}`;
  files.push({ name: snapshot, size: (await repository.stat(snapshot)).size });
  return files;
}

async function insertFiles(db: Db, jobId: string, files: { name: string; size: number }[]): Promise<void> {
  for (let i = 0; i < files.length; i += 500)
    await db
      .insertInto('export_files')
      .values(files.slice(i, i + 500).map((f) => ({ job_id: jobId, name: f.name, size: f.size })))
      .execute();
}

/**
 * Shipping details of the blank drives (and the address they come back to): a Creating job
 * becomes Shipping and the 14 days for the drives to arrive begin. A tracking number names one
 * package of one job, import or export.
 */
export async function setExportShipping(db: Db, server: ServerTable, name: string, details: ShippingDetails, now: Date): Promise<ExportJobView> {
  const job = await jobOfServer(db, server, name);
  if (job.state !== 'Creating' && job.state !== 'Shipping')
    throw new DriveseedError('CONFLICT', `shipping details cannot change once the export job is ${job.state}`, { field: 'state' });
  const files = await db.selectFrom('export_files').select('name').where('job_id', '=', job.id).where('name', 'like', 'data/%').limit(1).executeTakeFirst();
  if (!files) throw new DriveseedError('USAGE', `export job ${name} names no packs yet`, { field: 'packs' });
  if (await jobHoldingTrackingNumber(db, details.trackingNumber, { kind: 'export', id: job.id })) throw trackingNumberTaken(details.trackingNumber);
  const at = now.toISOString();
  try {
    await db
      .updateTable('export_jobs')
      .set({
        shipping: JSON.stringify(details),
        tracking_number: details.trackingNumber,
        state: 'Shipping',
        shipped_at: job.shipped_at ?? at,
        state_changed_at: job.state === 'Shipping' ? job.state_changed_at : at,
      })
      .where('id', '=', job.id)
      .where('state', '=', job.state)
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw trackingNumberTaken(details.trackingNumber);
    throw e;
  }
  if (job.state === 'Creating') await recordEvent(db, job.id, null, 'Shipping', now);
  return getExportJob(db, server.subscription_id, name);
}

export async function cancelExportJob(db: Db, server: ServerTable, name: string, now: Date): Promise<ExportJobView> {
  const job = await jobOfServer(db, server, name);
  await moveJob(db, job, 'Canceled', now);
  return getExportJob(db, server.subscription_id, name);
}

/** A job as its customer sees it: `withKeys` adds each drive's key (the agent's, to read the drives). */
export async function getExportJob(db: Db, subscriptionId: string, name: string, options: { withKeys?: boolean } = {}): Promise<ExportJobView> {
  const job = await db.selectFrom('export_jobs').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no export job ${name}`);
  return view(db, job, options.withKeys === true);
}

/** The job as the server it was made for sees it (its keys included); another server's job is not found. */
export async function getServerExportJob(db: Db, server: ServerTable, name: string): Promise<ExportJobView> {
  return view(db, await jobOfServer(db, server, name), true);
}

export async function listExportJobs(db: Db, subscriptionId?: string): Promise<ExportJobView[]> {
  let query = db.selectFrom('export_jobs').selectAll();
  if (subscriptionId) query = query.where('subscription_id', '=', subscriptionId);
  return Promise.all((await query.orderBy('created_at').execute()).map((job) => view(db, job, false)));
}

/** The files the job carries, in name order (the order they go onto drives). */
export async function exportFiles(db: Db, jobId: string): Promise<{ name: string; size: number }[]> {
  const rows = await db.selectFrom('export_files').select(['name', 'size']).where('job_id', '=', jobId).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, size: Number(r.size) }));
}

/** The operator names jobs by name; names are unique per subscription only. */
export async function findExportJob(db: Db, name: string, subscriptionId?: string): Promise<ExportJobTable | undefined> {
  let query = db.selectFrom('export_jobs').selectAll().where('name', '=', name);
  if (subscriptionId) query = query.where('subscription_id', '=', subscriptionId);
  const jobs = await query.execute();
  if (jobs.length > 1)
    throw new DriveseedError('AMBIGUOUS', `${jobs.length} subscriptions have an export job ${name}`, { hint: 'name one with --subscription' });
  return jobs[0];
}

/**
 * The data centre has the blank drives and starts writing: Shipping → Received → Transferring
 * (a rerun after a kill finds the job Transferring already and goes on).
 */
export async function startExportTransfer(db: Db, job: ExportJobTable, now: Date): Promise<void> {
  if (job.state === 'Shipping') await moveJob(db, job, 'Received', now);
  if (job.state === 'Received') await moveJob(db, job, 'Transferring', now);
  if (job.state !== 'Transferring')
    throw new DriveseedError(
      'CONFLICT',
      `export job ${job.name} is ${job.state}: ${job.state === 'Creating' ? 'it has no shipping details yet' : 'its drives are written already'}`,
      {
        field: 'state',
      },
    );
}

/** A drive written and verified: recorded with its key (Received → Transferring → Completed), once. */
export async function recordExportDrive(
  db: Db,
  job: ExportJobTable,
  drive: { driveId: string; key: string; manifestSha256: string; files: number; bytes: number },
  now: Date,
): Promise<void> {
  const known = await db.selectFrom('export_drives').select('id').where('id', '=', drive.driveId).executeTakeFirst();
  if (known) return;
  const row: ExportDriveTable = {
    id: drive.driveId,
    job_id: job.id,
    state: 'Received',
    drive_key: drive.key,
    manifest_sha256: drive.manifestSha256,
    files: drive.files,
    bytes: drive.bytes,
    state_changed_at: now.toISOString(),
  };
  await db.insertInto('export_drives').values(row).execute();
  await recordEvent(db, job.id, row.id, 'Received', now);
  await moveDrive(db, row, 'Transferring', now);
  await moveDrive(db, row, 'Completed', now);
}

/** Every file is on a drive: the drives are packed for the way back. */
export async function finishExportTransfer(db: Db, job: ExportJobTable, now: Date): Promise<void> {
  if (job.state === 'Transferring') await moveJob(db, job, 'Packaging', now);
}

/** The drives go back to the customer with the data centre's tracking number; the job is Completed. */
export async function shipBackExport(db: Db, job: ExportJobTable, trackingNumber: string | undefined, now: Date): Promise<JobState> {
  assertJobMove(job.state as JobState, 'Completed', 'export');
  const drives = await db.selectFrom('export_drives').selectAll().where('job_id', '=', job.id).execute();
  for (const d of drives) if (d.state === 'Completed') await moveDrive(db, d, 'ShippedBack', now);
  if (trackingNumber) await db.updateTable('export_jobs').set({ return_tracking_number: trackingNumber }).where('id', '=', job.id).execute();
  await moveJob(db, job, 'Completed', now);
  return 'Completed';
}

/** Creating jobs expire after 14 days, finished ones are deleted after 90 (their drive keys with them). */
export async function applyExportDeadlines(db: Db, now: Date): Promise<{ expired: number; deleted: number }> {
  const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const expired = await db.deleteFrom('export_jobs').where('state', '=', 'Creating').where('created_at', '<', at(CREATING_TTL_MS)).executeTakeFirst();
  const deleted = await db
    .deleteFrom('export_jobs')
    .where('state', 'in', ['Completed', 'Closed', 'Canceled'])
    .where('state_changed_at', '<', at(FINISHED_TTL_MS))
    .executeTakeFirst();
  return { expired: Number(expired.numDeletedRows), deleted: Number(deleted.numDeletedRows) };
}

async function jobOfServer(db: Db, server: ServerTable, name: string): Promise<ExportJobTable> {
  const job = await db
    .selectFrom('export_jobs')
    .selectAll()
    .where('subscription_id', '=', server.subscription_id)
    .where('server_id', '=', server.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `server ${server.name} has no export job ${name}`);
  return job;
}

function trackingNumberTaken(trackingNumber: string): DriveseedError {
  return new DriveseedError('CONFLICT', `tracking number ${trackingNumber} belongs to another job; one package holds one job's drives`, {
    field: 'trackingNumber',
  });
}

/** Moves only from the state read: a concurrent move by another instance makes this one fail, not overwrite. */
async function moveJob(db: Db, job: ExportJobTable, to: JobState, now: Date): Promise<void> {
  assertJobMove(job.state as JobState, to, 'export');
  const result = await db
    .updateTable('export_jobs')
    .set({ state: to, state_changed_at: now.toISOString() })
    .where('id', '=', job.id)
    .where('state', '=', job.state)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DriveseedError('CONFLICT', `export job ${job.name} changed state meanwhile`, { field: 'state' });
  job.state = to;
  await recordEvent(db, job.id, null, to, now);
}

async function moveDrive(db: Db, drive: ExportDriveTable, to: DriveState, now: Date): Promise<void> {
  assertDriveMove(drive.state as DriveState, to);
  const result = await db
    .updateTable('export_drives')
    .set({ state: to, state_changed_at: now.toISOString() })
    .where('id', '=', drive.id)
    .where('state', '=', drive.state)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DriveseedError('CONFLICT', `drive ${drive.id} changed state meanwhile`, { field: 'state' });
  drive.state = to;
  await recordEvent(db, drive.job_id, drive.id, to, now);
}

async function recordEvent(db: Db, jobId: string, driveId: string | null, state: string, now: Date): Promise<void> {
  await db.insertInto('export_events').values({ job_id: jobId, drive_id: driveId, state, at: now.toISOString() }).execute();
}

async function view(db: Db, job: ExportJobTable, withKeys: boolean): Promise<ExportJobView> {
  const server = await db
    .selectFrom('servers')
    .innerJoin('vaults', 'vaults.id', 'servers.vault_id')
    .select(['servers.name as serverName', 'vaults.name as vaultName'])
    .where('servers.id', '=', job.server_id)
    .executeTakeFirstOrThrow();
  const drives = await db.selectFrom('export_drives').selectAll().where('job_id', '=', job.id).orderBy('id').execute();
  const events = await db.selectFrom('export_events').selectAll().where('job_id', '=', job.id).orderBy('at').execute();
  const totals = await db
    .selectFrom('export_files')
    .select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.sum<number>('size').as('bytes')])
    .where('job_id', '=', job.id)
    .executeTakeFirstOrThrow();
  const historyOf = (driveId: string | null) => events.filter((e) => e.drive_id === driveId).map((e) => ({ state: e.state, at: e.at }));
  const deadline = jobDeadline(job, 'blank drives');
  return {
    id: job.id,
    name: job.name,
    serverId: job.server_id,
    serverName: server.serverName,
    vaultName: server.vaultName,
    snapshotId: job.snapshot_id,
    state: job.state as JobState,
    createdAt: job.created_at,
    stateChangedAt: job.state_changed_at,
    ...(job.shipped_at ? { shippedAt: job.shipped_at } : {}),
    ...(job.shipping ? { shipping: JSON.parse(job.shipping) as ShippingDetails } : {}),
    ...(job.return_tracking_number ? { returnTrackingNumber: job.return_tracking_number } : {}),
    ...(deadline ? { deadline } : {}),
    files: Number(totals.files),
    bytes: Number(totals.bytes ?? 0),
    drives: drives.map((d) => ({
      driveId: d.id,
      state: d.state as DriveState,
      files: Number(d.files),
      bytes: Number(d.bytes),
      stateChangedAt: d.state_changed_at,
      history: historyOf(d.id),
      ...(withKeys ? { key: d.drive_key, manifestSha256: d.manifest_sha256 } : {}),
    })),
    history: historyOf(null),
  };
}
