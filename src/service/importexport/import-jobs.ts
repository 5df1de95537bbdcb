import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import type { ImportDriveTable, ImportJobTable } from '../db/schema.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import { ensureContainer } from '../accounts/storage-accounts.js';
import type { ShippingDetails } from '../../api/schemas.js';
import { IMPORT_JOB_NAME } from '../../api/contract.js';
import { DriveseedError } from '../../core/errors.js';
import { ARRIVAL_WINDOW_MS, assertDriveMove, assertJobMove, CREATING_TTL_MS, FINISHED_TTL_MS, jobDeadline, type DriveState, type JobState } from './states.js';
import { jobHoldingTrackingNumber } from './tracking-numbers.js';

export const MAX_DRIVES_PER_JOB = 10;

export interface NewDrive {
  driveId: string;
  key: string;
  manifestSha256: string;
  files: number;
  bytes: number;
}

export interface ImportJobView {
  id: string;
  name: string;
  storageAccount: string;
  container: string;
  state: JobState;
  /** An offline delta's job; absent for a seed. */
  kind?: 'delta';
  createdAt: string;
  stateChangedAt: string;
  shippedAt?: string;
  shipping?: ShippingDetails;
  /** The deadline still ahead: shipping details by (Creating), drives to arrive by (Shipping). */
  deadline?: { what: string; at: string };
  drives: { driveId: string; state: DriveState; files: number; bytes: number; stateChangedAt: string; hasErrorLog: boolean; history: StateEvent[] }[];
  history: StateEvent[];
}

export interface StateEvent {
  state: string;
  at: string;
}

export async function createImportJob(
  db: Db,
  subscriptionId: string,
  input: { name: string; storageAccount: string; container: string; drives: NewDrive[]; kind?: 'delta' },
  now: Date,
): Promise<ImportJobView> {
  if (!IMPORT_JOB_NAME.test(input.name))
    throw new DriveseedError('USAGE', 'job names are lower-case letters, digits, - and _, starting with a letter', { field: 'name' });
  if (input.drives.length === 0) throw new DriveseedError('USAGE', 'an import job needs at least one drive', { field: 'drives' });
  if (input.drives.length > MAX_DRIVES_PER_JOB)
    throw new DriveseedError('USAGE', `an import job takes at most ${MAX_DRIVES_PER_JOB} drives`, { field: 'drives' });
  const existing = await db
    .selectFrom('import_jobs')
    .select('id')
    .where('subscription_id', '=', subscriptionId)
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (existing) throw new DriveseedError('CONFLICT', `an import job named ${input.name} exists already`, { field: 'name' });
  // One storage account per job, and it must be this subscription's; the container is made if absent.
  await ensureContainer(db, subscriptionId, input.storageAccount, input.container, now);
  const id = randomUUID();
  const at = now.toISOString();
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('import_jobs')
      .values({
        id,
        subscription_id: subscriptionId,
        name: input.name,
        storage_account: input.storageAccount,
        container: input.container,
        state: 'Creating',
        created_at: at,
        state_changed_at: at,
        shipped_at: null,
        shipping: null,
        tracking_number: null,
        kind: input.kind ?? null,
      })
      .execute();
    await tx.insertInto('import_events').values({ job_id: id, drive_id: null, state: 'Creating', at }).execute();
    for (const d of input.drives) {
      await tx
        .insertInto('import_drives')
        .values({
          id: d.driveId,
          job_id: id,
          state: 'Specified',
          drive_key: d.key,
          manifest_sha256: d.manifestSha256,
          files: d.files,
          bytes: d.bytes,
          state_changed_at: at,
          error_log: null,
          verbose_log: null,
        })
        .execute();
      await tx.insertInto('import_events').values({ job_id: id, drive_id: d.driveId, state: 'Specified', at }).execute();
    }
  });
  return getImportJob(db, subscriptionId, input.name);
}

export async function getImportJob(db: Db, subscriptionId: string, name: string): Promise<ImportJobView> {
  const job = await db.selectFrom('import_jobs').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no import job ${name}`);
  return view(db, job);
}

export async function listImportJobs(db: Db, subscriptionId?: string): Promise<ImportJobView[]> {
  let query = db.selectFrom('import_jobs').selectAll();
  if (subscriptionId) query = query.where('subscription_id', '=', subscriptionId);
  return Promise.all((await query.orderBy('created_at').execute()).map((job) => view(db, job)));
}

/**
 * Entering shipping details moves a Creating job to Shipping (and starts the 14 days for
 * the drives to arrive); later they may be corrected while the drives are still on the way.
 */
export async function setShipping(db: Db, subscriptionId: string, name: string, details: ShippingDetails, now: Date): Promise<ImportJobView> {
  const job = await db.selectFrom('import_jobs').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no import job ${name}`);
  if (job.state !== 'Creating' && job.state !== 'Shipping')
    throw new DriveseedError('CONFLICT', `shipping details cannot change once the job is ${job.state}`, { field: 'state' });
  // Export jobs' packages (blank drives on their way) are packages too.
  const holder = await jobHoldingTrackingNumber(db, details.trackingNumber, { kind: 'import', id: job.id });
  if (holder) throw trackingNumberTaken(details.trackingNumber, "; one package holds one job's drives", holder);
  const at = now.toISOString();
  try {
    await db
      .updateTable('import_jobs')
      .set({
        shipping: JSON.stringify(details),
        tracking_number: details.trackingNumber,
        state: 'Shipping',
        shipped_at: job.shipped_at ?? at,
        state_changed_at: job.state === 'Shipping' ? job.state_changed_at : at,
      })
      .where('id', '=', job.id)
      .execute();
  } catch (e) {
    // Two jobs racing for one number: the unique constraint decides.
    if (isUniqueViolation(e)) throw trackingNumberTaken(details.trackingNumber);
    throw e;
  }
  if (job.state === 'Creating') await recordEvent(db, job.id, null, 'Shipping', now);
  return getImportJob(db, subscriptionId, name);
}

export async function cancelImportJob(db: Db, subscriptionId: string, name: string, now: Date): Promise<ImportJobView> {
  const job = await db.selectFrom('import_jobs').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no import job ${name}`);
  await moveJob(db, job, 'Canceled', now);
  await forgetDriveKeys(db, job.id);
  return getImportJob(db, subscriptionId, name);
}

/** The data centre has the drive in hand (also one declared NeverReceived that turned up late). */
export async function receiveDrive(db: Db, jobId: string, driveId: string, now: Date): Promise<void> {
  const { job, drive } = await jobAndDrive(db, jobId, driveId);
  await moveDrive(db, drive, 'Received', now);
  if (job.state === 'Shipping') await moveJob(db, job, 'Received', now);
}

export async function startDriveTransfer(db: Db, jobId: string, driveId: string, now: Date): Promise<ImportDriveTable> {
  const { job, drive } = await jobAndDrive(db, jobId, driveId);
  await moveDrive(db, drive, 'Transferring', now);
  if (job.state === 'Received') await moveJob(db, job, 'Transferring', now);
  return drive;
}

/** What a drive's key becomes once its import is over. */
export const FORGOTTEN_KEY = '';

/** Records a drive's outcome with its logs; when no drive is left to import, the job goes to Packaging. */
export async function finishDrive(
  db: Db,
  jobId: string,
  driveId: string,
  outcome: { ok: boolean; errorLog: string; verboseLog: string },
  now: Date,
): Promise<void> {
  const { drive } = await jobAndDrive(db, jobId, driveId);
  // The drive's import is over (no state leads back to Transferring): its key is forgotten, so
  // a copy of the database cannot open the drive on its way back or after.
  await moveDrive(db, drive, outcome.ok ? 'Completed' : 'CompletedMoreInfo', now, {
    error_log: outcome.errorLog,
    verbose_log: outcome.verboseLog,
    drive_key: FORGOTTEN_KEY,
  });
  const drives = await db.selectFrom('import_drives').select('state').where('job_id', '=', jobId).execute();
  const busy = drives.some((d) => ['Specified', 'Received', 'Transferring'].includes(d.state));
  const job = await db.selectFrom('import_jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
  if (!busy && job.state === 'Transferring') await moveJob(db, job, 'Packaging', now);
}

/** Drives go back to the customer; the job ends Completed if every drive imported cleanly, else Closed. */
export async function shipBack(db: Db, jobId: string, now: Date): Promise<JobState> {
  const job = await db.selectFrom('import_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no import job ${jobId}`);
  const drives = await db.selectFrom('import_drives').selectAll().where('job_id', '=', jobId).execute();
  const clean = drives.every((d) => d.state === 'Completed');
  const end: JobState = clean ? 'Completed' : 'Closed';
  // Once shipped, what is missing is a drive, and naming it says more than the job's state;
  // before that (Creating), the state is the reason.
  if (job.state !== 'Creating') assertEveryDriveSettled(job.name, drives);
  assertJobMove(job.state as JobState, end);
  for (const d of drives) if (d.state === 'Completed' || d.state === 'CompletedMoreInfo') await moveDrive(db, d, 'ShippedBack', now);
  await moveJob(db, job, end, now);
  await forgetDriveKeys(db, jobId);
  return end;
}

/** A job that ended (shipped back or canceled) imports nothing more: no key of its drives is kept, received or not. */
async function forgetDriveKeys(db: Db, jobId: string): Promise<void> {
  await db.updateTable('import_drives').set({ drive_key: FORGOTTEN_KEY }).where('job_id', '=', jobId).execute();
}

/**
 * A job's drives go back together, once each is imported or declared never received: a drive
 * still on its way or in the import would otherwise be left in a closed job, unimported.
 */
function assertEveryDriveSettled(jobName: string, drives: ImportDriveTable[]): void {
  const waiting = drives.filter((d) => d.state === 'Specified').map((d) => d.id);
  if (waiting.length > 0)
    throw new DriveseedError('CONFLICT', `import job ${jobName} still waits for drive${waiting.length === 1 ? '' : 's'} ${waiting.join(', ')}`, {
      hint: 'receive it first; one that never arrives is declared NeverReceived by datacenter tick 14 days after shipping',
      field: 'state',
    });
  const inWork = drives.filter((d) => d.state === 'Received' || d.state === 'Transferring').map((d) => d.id);
  if (inWork.length > 0)
    throw new DriveseedError('CONFLICT', `import job ${jobName} is still importing drive${inWork.length === 1 ? '' : 's'} ${inWork.join(', ')}`, {
      hint: 'ship back once the import has finished (datacenter jobs shows each drive)',
      field: 'state',
    });
}

/**
 * Applies the deadlines: Creating jobs expire 14 days after creation; drives not received 14
 * days after the shipping details become NeverReceived; finished jobs are deleted after 90
 * days. Safe to run from any instance: every move is conditional on the state it read.
 */
export async function applyDeadlines(db: Db, now: Date): Promise<{ expired: number; neverReceived: number; deleted: number }> {
  const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const expired = await db.deleteFrom('import_jobs').where('state', '=', 'Creating').where('created_at', '<', at(CREATING_TTL_MS)).executeTakeFirst();
  const late = await db
    .selectFrom('import_drives')
    .innerJoin('import_jobs', 'import_jobs.id', 'import_drives.job_id')
    .selectAll('import_drives')
    .where('import_drives.state', '=', 'Specified')
    .where('import_jobs.shipped_at', '<', at(ARRIVAL_WINDOW_MS))
    .execute();
  // The job stays open: a drive that turns up late is still received and imported.
  for (const drive of late) await moveDrive(db, drive, 'NeverReceived', now);
  const deleted = await db
    .deleteFrom('import_jobs')
    .where('state', 'in', ['Completed', 'Closed'])
    .where('state_changed_at', '<', at(FINISHED_TTL_MS))
    .executeTakeFirst();
  return { expired: Number(expired.numDeletedRows), neverReceived: late.length, deleted: Number(deleted.numDeletedRows) };
}

export async function driveLogs(db: Db, subscriptionId: string, name: string, driveId: string): Promise<{ errorLog: string; verboseLog: string }> {
  const row = await db
    .selectFrom('import_drives')
    .innerJoin('import_jobs', 'import_jobs.id', 'import_drives.job_id')
    .select(['import_drives.error_log', 'import_drives.verbose_log'])
    .where('import_jobs.subscription_id', '=', subscriptionId)
    .where('import_jobs.name', '=', name)
    .where('import_drives.id', '=', driveId)
    .executeTakeFirst();
  if (!row) throw new DriveseedError('NOT_FOUND', `no drive ${driveId} in import job ${name}`);
  return { errorLog: row.error_log ?? '', verboseLog: row.verbose_log ?? '' };
}

async function jobAndDrive(db: Db, jobId: string, driveId: string): Promise<{ job: ImportJobTable; drive: ImportDriveTable }> {
  const job = await db.selectFrom('import_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  const drive = await db.selectFrom('import_drives').selectAll().where('id', '=', driveId).where('job_id', '=', jobId).executeTakeFirst();
  if (!job || !drive) throw new DriveseedError('NOT_FOUND', `drive ${driveId} is not part of import job ${jobId}`);
  return { job, drive };
}

function trackingNumberTaken(trackingNumber: string, why = '', kind = 'import'): DriveseedError {
  return new DriveseedError('CONFLICT', `tracking number ${trackingNumber} belongs to another ${kind} job${why}`, { field: 'trackingNumber' });
}

/** Moves only from the state read: a concurrent move by another instance makes this one fail, not overwrite. */
async function moveJob(db: Db, job: ImportJobTable, to: JobState, now: Date): Promise<void> {
  assertJobMove(job.state as JobState, to);
  const result = await db
    .updateTable('import_jobs')
    .set({ state: to, state_changed_at: now.toISOString() })
    .where('id', '=', job.id)
    .where('state', '=', job.state)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DriveseedError('CONFLICT', `import job ${job.name} changed state meanwhile`, { field: 'state' });
  job.state = to;
  await recordEvent(db, job.id, null, to, now);
}

async function recordEvent(db: Db, jobId: string, driveId: string | null, state: string, now: Date): Promise<void> {
  await db.insertInto('import_events').values({ job_id: jobId, drive_id: driveId, state, at: now.toISOString() }).execute();
}

async function moveDrive(
  db: Db,
  drive: ImportDriveTable,
  to: DriveState,
  now: Date,
  logs: Partial<Pick<ImportDriveTable, 'error_log' | 'verbose_log' | 'drive_key'>> = {},
): Promise<void> {
  assertDriveMove(drive.state as DriveState, to);
  const result = await db
    .updateTable('import_drives')
    .set({ state: to, state_changed_at: now.toISOString(), ...logs })
    .where('id', '=', drive.id)
    .where('state', '=', drive.state)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DriveseedError('CONFLICT', `drive ${drive.id} changed state meanwhile`, { field: 'state' });
  drive.state = to;
  await recordEvent(db, drive.job_id, drive.id, to, now);
}

async function view(db: Db, job: ImportJobTable): Promise<ImportJobView> {
  const drives = await db.selectFrom('import_drives').selectAll().where('job_id', '=', job.id).orderBy('id').execute();
  const events = await db.selectFrom('import_events').selectAll().where('job_id', '=', job.id).orderBy('at').execute();
  const historyOf = (driveId: string | null) => events.filter((e) => e.drive_id === driveId).map((e) => ({ state: e.state, at: e.at }));
  const deadline = jobDeadline(job);
  return {
    id: job.id,
    name: job.name,
    storageAccount: job.storage_account,
    container: job.container,
    state: job.state as JobState,
    ...(job.kind === 'delta' ? { kind: 'delta' as const } : {}),
    createdAt: job.created_at,
    stateChangedAt: job.state_changed_at,
    ...(job.shipped_at ? { shippedAt: job.shipped_at } : {}),
    ...(job.shipping ? { shipping: JSON.parse(job.shipping) as ShippingDetails } : {}),
    ...(deadline ? { deadline } : {}),
    drives: drives.map((d) => ({
      driveId: d.id,
      state: d.state as DriveState,
      files: Number(d.files),
      bytes: Number(d.bytes),
      stateChangedAt: d.state_changed_at,
      hasErrorLog: !!d.error_log,
      history: historyOf(d.id),
    })),
    history: historyOf(null),
  };
}
