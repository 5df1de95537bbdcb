import { join } from 'node:path';
import { importDrive } from '../../core/envelope/drive-reader.js';
import { inspectDrive } from '../../core/envelope/drive-medium.js';
import { drivesStarted, MAX_DRIVE_BYTES, prepareDrives, type DriveTarget, type PrepareProgress, type PreparedDrive } from '../../core/envelope/drive-writer.js';
import { DriveseedError } from '../../core/errors.js';
import type { BlobData, BlobStore } from '../../core/storage/blob-store.js';
import { ForwardingStore } from '../../core/storage/forwarding.js';
import { MemoryStore } from '../../core/storage/memory/memory-store.js';
import type { Db } from '../db/open-database.js';
import {
  exportFiles,
  findExportJob,
  finishExportTransfer,
  getExportJob,
  recordExportDrive,
  shipBackExport,
  startExportTransfer,
  type ExportJobView,
} from '../importexport/export-jobs.js';
import type { JobState } from '../importexport/states.js';
import { repositoryStore } from '../vault/vault-routes.js';

export interface ExportDrivesResult {
  job: ExportJobView;
  /** The drives written (and read back) by this run and earlier ones. */
  drives: { driveId: string; path: string; files: number; bytes: number }[];
  /** Files no drive had room for: the operator brings another blank drive and runs again. */
  remainingFiles: number;
  remainingBytes: number;
}

/**
 * `datacenter export`: the job's files, ciphertext straight from the server's repository in
 * the vault, go onto the customer's blank drives in the drive envelope (docs/drive-envelope.md)
 * — the same writer diskprep uses: a fresh key per drive, a sealed manifest with per-block
 * checks, spanning over several drives, a journal in `stateDir` so that a killed run resumes.
 * Each finished drive is then read back whole (every block opened and checked, every file
 * hashed against its name) before it is recorded with its key: a drive that is recorded is one
 * that reads.
 */
export async function exportDrives(
  db: Db,
  blobs: BlobStore,
  jobName: string,
  drivePaths: string[],
  stateDir: string,
  now: () => Date,
  options: { subscriptionId?: string; capacity?: number; onProgress?: (p: PrepareProgress) => void } = {},
): Promise<ExportDrivesResult> {
  const job = await findExportJob(db, jobName, options.subscriptionId);
  if (!job) throw new DriveseedError('NOT_FOUND', `no export job ${jobName}`);
  await startExportTransfer(db, job, now());
  const server = await db.selectFrom('servers').selectAll().where('id', '=', job.server_id).executeTakeFirstOrThrow();
  const repository = repositoryStore(blobs, server);
  const files = await exportFiles(db, job.id);
  const jobState = join(stateDir, job.id);
  const targets = await blankDriveTargets(jobState, job.name, drivePaths, options.capacity);
  const result = await prepareDrives({
    staging: repository,
    jobName: job.name,
    drives: targets,
    stateDir: jobState,
    only: new Set(files.map((f) => f.name)),
    onProgress: options.onProgress,
    now,
  });
  assertNothingVanished(files, result.drives, result.remainingFiles);
  const recorded = new Set((await db.selectFrom('export_drives').select('id').where('job_id', '=', job.id).execute()).map((d) => d.id));
  for (const drive of result.drives) {
    if (recorded.has(drive.driveId)) continue;
    await readBack(drive);
    await recordExportDrive(db, job, drive, now());
  }
  if (result.remainingFiles === 0) await finishExportTransfer(db, job, now());
  return {
    job: await getExportJob(db, job.subscription_id, job.name),
    drives: result.drives.map((d) => ({ driveId: d.driveId, path: d.path, files: d.files, bytes: d.bytes })),
    remainingFiles: result.remainingFiles,
    remainingBytes: result.remainingBytes,
  };
}

/**
 * Drives this job began earlier are its own (a rerun goes on with them); any other drive must
 * be blank: the customer sent it for this, and the data centre never erases a drive with data.
 */
async function blankDriveTargets(stateDir: string, jobName: string, paths: string[], capacity?: number): Promise<DriveTarget[]> {
  const started = await drivesStarted(stateDir, jobName);
  const targets: DriveTarget[] = started.filter((d) => d.done && !paths.includes(d.path)).map((d) => ({ path: d.path, capacity: 0 }));
  for (const path of paths) {
    const known = started.find((d) => d.path === path);
    if (known?.done) {
      targets.push({ path, capacity: 0 });
      continue;
    }
    const inspection = await inspectDrive(path);
    if (!known && inspection.contents.length > 0)
      throw new DriveseedError(
        'USAGE',
        `drive ${path} is not blank (it holds ${inspection.contents.slice(0, 3).join(', ')}): export jobs are written onto blank drives`,
      );
    const room = capacity ?? known?.capacity ?? inspection.capacity;
    if (room > MAX_DRIVE_BYTES) throw new DriveseedError('USAGE', `drive ${path} is larger than 10 TB, the most a drive may hold`);
    targets.push({ path, capacity: room });
  }
  return targets;
}

/** A pack pruned from the vault after the job was made cannot be exported: said, not left off silently. */
function assertNothingVanished(files: { name: string }[], drives: PreparedDrive[], remaining: number): void {
  const placed = drives.reduce((n, d) => n + d.files, 0);
  if (placed + remaining < files.length)
    throw new DriveseedError(
      'NOT_FOUND',
      `${files.length - placed - remaining} of the job's files are no longer in the vault (pruned since the job was made)`,
      {
        hint: 'cancel the job and ask for another export of a recovery point that is still kept',
      },
    );
}

async function readBack(drive: PreparedDrive): Promise<void> {
  const report = await importDrive(
    drive.path,
    { driveId: drive.driveId, key: drive.key, manifestSha256: drive.manifestSha256, files: drive.files, bytes: drive.bytes },
    new ReadBackSink(),
  );
  const first = report.problems[0];
  if (first)
    throw new DriveseedError(
      'CORRUPT',
      `drive ${drive.driveId} at ${drive.path} does not read back: ${first.file ?? ''}${first.block !== undefined ? ` block ${first.block}` : ''}: ${first.reason}`,
      { hint: 'replace the drive and run datacenter export again with the new one in its place' },
    );
}

/**
 * Where a read-back puts what it read: nowhere. importDrive already opens every block, checks
 * its tag and hashes each file against its name on the way to its target; the target here only
 * has to take the bytes, not keep 16 MiB a file for nothing.
 */
class ReadBackSink extends ForwardingStore {
  constructor() {
    super(new MemoryStore(), 'read-back of an export drive');
  }

  override async put(_name: string, _data: BlobData): Promise<void> {}

  override async exists(): Promise<boolean> {
    return false;
  }
}

/** `datacenter ship-back` of an export job: its drives go back with the data centre's tracking number. */
export async function shipBackExportJob(
  db: Db,
  jobName: string,
  trackingNumber: string | undefined,
  now: Date,
  subscriptionId?: string,
): Promise<JobState | undefined> {
  const job = await findExportJob(db, jobName, subscriptionId);
  return job ? shipBackExport(db, job, trackingNumber, now) : undefined;
}
