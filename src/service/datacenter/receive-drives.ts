import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importDrive, type DriveImportReport } from '../../seed/drive-reader.js';
import { HEADER_FILE, parseHeader } from '../../seed/envelope-format.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { containerStore } from '../accounts/storage-accounts.js';
import { DriveseedError } from '../../errors.js';
import type { Db } from '../db/open-database.js';
import type { ImportJobTable } from '../db/schema.js';
import { finishDrive, receiveDrive, startDriveTransfer } from '../importexport/import-jobs.js';

export interface ReceivedDrive {
  driveId: string;
  path: string;
  state: 'Completed' | 'CompletedMoreInfo';
  report: DriveImportReport;
  errorLog: string;
}

/**
 * The data centre receives drives of one job and imports each: unlock with the registered key,
 * verify, copy into the job's container, and record the drive's outcome with its error log
 * (always) and verbose log. A drive that cannot even be opened ends CompletedMoreInfo with
 * the reason, as the real service reports "key invalid" or "manifest corrupted".
 */
export async function receiveDrives(db: Db, blobs: BlobStore, jobName: string, drivePaths: string[], now: () => Date, subscriptionId?: string): Promise<ReceivedDrive[]> {
  const job = await findJob(db, jobName, subscriptionId);
  const target = containerStore(blobs, job.storage_account, job.container);
  const results: ReceivedDrive[] = [];
  for (const path of drivePaths) {
    const driveId = await driveIdOf(path);
    const drive = await db.selectFrom('import_drives').selectAll().where('job_id', '=', job.id).where('id', '=', driveId).executeTakeFirst();
    if (!drive) throw new DriveseedError('CONFLICT', `drive ${driveId} at ${path} belongs to another import job, not ${jobName}`);
    await receiveDrive(db, job.id, driveId, now());
    await startDriveTransfer(db, job.id, driveId, now());
    let report: DriveImportReport;
    try {
      report = await importDrive(path, { driveId, key: drive.drive_key, manifestSha256: drive.manifest_sha256 }, target, { skipExisting: true });
    } catch (e) {
      report = { driveId, filesImported: 0, bytesImported: 0, problems: [{ reason: (e as Error).message }], verbose: [] };
    }
    const errorLog = report.problems.map((p) => `${p.file ?? '(drive)'}${p.block !== undefined ? ` block ${p.block}` : ''}: ${p.reason}`).join('\n');
    const ok = report.problems.length === 0;
    await finishDrive(db, job.id, driveId, { ok, errorLog, verboseLog: report.verbose.join('\n') }, now());
    results.push({ driveId, path, state: ok ? 'Completed' : 'CompletedMoreInfo', report, errorLog });
  }
  return results;
}

/** The operator names jobs by name; names are unique per subscription only. */
async function findJob(db: Db, jobName: string, subscriptionId?: string): Promise<ImportJobTable> {
  let query = db.selectFrom('import_jobs').selectAll().where('name', '=', jobName);
  if (subscriptionId) query = query.where('subscription_id', '=', subscriptionId);
  const jobs = await query.execute();
  if (jobs.length === 0) throw new DriveseedError('NOT_FOUND', `no import job ${jobName}`);
  if (jobs.length > 1) throw new DriveseedError('AMBIGUOUS', `${jobs.length} subscriptions have an import job ${jobName}`, { hint: 'name one with --subscription' });
  return jobs[0];
}

export async function findJobId(db: Db, jobName: string, subscriptionId?: string): Promise<string> {
  return (await findJob(db, jobName, subscriptionId)).id;
}

async function driveIdOf(path: string): Promise<string> {
  try {
    return parseHeader(await readFile(join(path, HEADER_FILE), 'utf8'), path).driveId;
  } catch (e) {
    if (e instanceof DriveseedError) throw e;
    throw new DriveseedError('NOT_FOUND', `${path}: volume not found (no driveseed drive there)`);
  }
}
