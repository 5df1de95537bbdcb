import { openDriveSource } from '../../core/envelope/drive-medium.js';
import { readDriveHeader } from '../../core/envelope/drive-reader.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainQueue, enqueueDrive, pendingDrives, workerId, type ImportOutcome } from './import-queue.js';
import { DriveseedError } from '../../core/errors.js';
import type { Db } from '../db/open-database.js';
import type { ImportJobTable } from '../db/schema.js';
import { receiveDrive } from '../importexport/import-jobs.js';

/**
 * The data centre receives drives of one job: each is marked Received and queued for import.
 * Unless `queueOnly`, this process then works the job's queue itself (unlock with the
 * registered key, verify, copy into the job's container, record the outcome and logs);
 * otherwise the import workers of the service instances take them. Running it again after a
 * kill takes the drive over where the import stopped.
 */
export async function receiveDrives(
  db: Db,
  blobs: BlobStore,
  jobName: string,
  drivePaths: string[],
  now: () => Date,
  options: { subscriptionId?: string; queueOnly?: boolean } = {},
): Promise<ImportOutcome[]> {
  const job = await findJob(db, jobName, options.subscriptionId);
  for (const path of drivePaths) {
    const driveId = await driveIdOf(path);
    const drive = await db.selectFrom('import_drives').selectAll().where('job_id', '=', job.id).where('id', '=', driveId).executeTakeFirst();
    if (!drive) throw new DriveseedError('CONFLICT', `drive ${driveId} at ${path} belongs to another import job, not ${jobName}`);
    if (drive.state === 'Specified' || drive.state === 'NeverReceived') await receiveDrive(db, job.id, driveId, now());
    else if (drive.state !== 'Received' && drive.state !== 'Transferring') throw new DriveseedError('CONFLICT', `drive ${driveId} is ${drive.state} already`);
    await enqueueDrive(db, { driveId, jobId: job.id, path }, now());
  }
  if (options.queueOnly) return [];
  const worker = workerId();
  const outcomes = await drainQueue(db, blobs, worker, now, job.id);
  // Drives another live worker holds: wait for it (or for its claim to go stale, then take over).
  while ((await pendingDrives(db, job.id)) > 0) {
    await sleep(1000);
    outcomes.push(...(await drainQueue(db, blobs, worker, now, job.id)));
  }
  return outcomes;
}

/** The operator names jobs by name; names are unique per subscription only. */
async function findJob(db: Db, jobName: string, subscriptionId?: string): Promise<ImportJobTable> {
  let query = db.selectFrom('import_jobs').selectAll().where('name', '=', jobName);
  if (subscriptionId) query = query.where('subscription_id', '=', subscriptionId);
  const jobs = await query.execute();
  if (jobs.length === 0) throw new DriveseedError('NOT_FOUND', `no import job ${jobName}`);
  if (jobs.length > 1)
    throw new DriveseedError('AMBIGUOUS', `${jobs.length} subscriptions have an import job ${jobName}`, { hint: 'name one with --subscription' });
  return jobs[0];
}

export async function findJobId(db: Db, jobName: string, subscriptionId?: string): Promise<string> {
  return (await findJob(db, jobName, subscriptionId)).id;
}

async function driveIdOf(path: string): Promise<string> {
  return (await readDriveHeader(await openDriveSource(path))).driveId;
}
