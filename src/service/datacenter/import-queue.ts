import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import type { ImportQueueTable } from '../db/schema.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { importDrive, type DriveImportReport } from '../../core/envelope/drive-reader.js';
import { containerStore } from '../accounts/storage-accounts.js';
import { isDriveseedError } from '../../core/errors.js';
import { finishDrive, startDriveTransfer } from '../importexport/import-jobs.js';

/** A worker that stops beating for this long is presumed dead; its drive is taken over. */
export const CLAIM_STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;

export interface QueuedDrive {
  driveId: string;
  jobId: string;
  path: string;
}

export interface ImportOutcome {
  driveId: string;
  state: 'Completed' | 'CompletedMoreInfo';
  report: DriveImportReport;
  errorLog: string;
}

export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Puts a received drive in the queue; enqueueing one that is queued already changes nothing. */
export async function enqueueDrive(db: Db, drive: QueuedDrive, now: Date): Promise<void> {
  await db
    .insertInto('import_queue')
    .values({
      drive_id: drive.driveId,
      job_id: drive.jobId,
      drive_path: drive.path,
      state: 'queued',
      claimed_by: null,
      heartbeat_at: null,
      bytes_done: 0,
      bytes_total: 0,
      enqueued_at: now.toISOString(),
    })
    .onConflict((c) => c.column('drive_id').doUpdateSet({ drive_path: drive.path }))
    .execute();
}

/**
 * Takes the oldest drive nobody works on — queued, or running under a worker whose heartbeat
 * stopped. The update is conditional on what was read, so when two instances race for one
 * drive exactly one wins, on SQLite and on PostgreSQL alike.
 */
export async function claimNext(db: Db, worker: string, now: Date, jobId?: string): Promise<ImportQueueTable | undefined> {
  const stale = new Date(now.getTime() - CLAIM_STALE_MS).toISOString();
  let query = db.selectFrom('import_queue').selectAll().where('state', 'in', ['queued', 'running']);
  if (jobId) query = query.where('job_id', '=', jobId);
  for (const candidate of await query.orderBy('enqueued_at').execute()) {
    const abandoned = candidate.state === 'running' && ((candidate.heartbeat_at ?? '') < stale || isDeadLocalWorker(candidate.claimed_by));
    if (candidate.state !== 'queued' && !abandoned) continue;
    const taken = await db
      .updateTable('import_queue')
      .set({ state: 'running', claimed_by: worker, heartbeat_at: now.toISOString() })
      .where('drive_id', '=', candidate.drive_id)
      .where('state', '=', candidate.state)
      .where((eb) => (candidate.claimed_by === null ? eb('claimed_by', 'is', null) : eb('claimed_by', '=', candidate.claimed_by)))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) return { ...candidate, state: 'running', claimed_by: worker };
  }
  return undefined;
}

/** A worker on this host whose process is gone need not be waited for (a killed `datacenter receive`). */
function isDeadLocalWorker(claimedBy: string | null): boolean {
  const [host, pid] = (claimedBy ?? '').split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Drives of a job still queued or being imported. */
export async function pendingDrives(db: Db, jobId: string): Promise<number> {
  const rows = await db.selectFrom('import_queue').select('drive_id').where('job_id', '=', jobId).where('state', '!=', 'done').execute();
  return rows.length;
}

/**
 * Imports one claimed drive: unlock, verify every block, write into the job's container,
 * record the outcome and logs. A drive taken over from a dead worker is already Transferring
 * and goes on where that worker stopped (files in the container are not written again).
 */
export async function importClaimed(db: Db, blobs: BlobStore, claim: ImportQueueTable, worker: string, now: () => Date): Promise<ImportOutcome> {
  const job = await db.selectFrom('import_jobs').selectAll().where('id', '=', claim.job_id).executeTakeFirstOrThrow();
  const drive = await db.selectFrom('import_drives').selectAll().where('id', '=', claim.drive_id).executeTakeFirstOrThrow();
  if (drive.state === 'Received') await startDriveTransfer(db, job.id, drive.id, now());
  let progress = { done: 0, total: 0 };
  const beat = () =>
    db
      .updateTable('import_queue')
      .set({ heartbeat_at: now().toISOString(), bytes_done: progress.done, bytes_total: progress.total })
      .where('drive_id', '=', claim.drive_id)
      .where('claimed_by', '=', worker)
      .execute();
  const timer = setInterval(() => void beat().catch(() => undefined), HEARTBEAT_MS);
  let report: DriveImportReport;
  try {
    report = await importDrive(
      claim.drive_path,
      { driveId: drive.id, key: drive.drive_key, manifestSha256: drive.manifest_sha256, files: Number(drive.files), bytes: Number(drive.bytes) },
      containerStore(blobs, job.storage_account, job.container),
      {
        skipExisting: true,
        onProgress: (done, total) => (progress = { done, total }),
      },
    );
  } catch (e) {
    // A drive that cannot even be opened ends with the reason, as the real service reports "key invalid".
    report = { driveId: drive.id, filesImported: 0, bytesImported: 0, problems: [{ reason: customerReason(e) }], verbose: [] };
  } finally {
    clearInterval(timer);
  }
  const errorLog = report.problems.map((p) => `${p.file ?? '(drive)'}${p.block !== undefined ? ` block ${p.block}` : ''}: ${p.reason}`).join('\n');
  const ok = report.problems.length === 0;
  await finishDrive(db, job.id, drive.id, { ok, errorLog, verboseLog: report.verbose.join('\n') }, now());
  await db
    .updateTable('import_queue')
    .set({ state: 'done', heartbeat_at: now().toISOString(), bytes_done: progress.done, bytes_total: progress.total })
    .where('drive_id', '=', claim.drive_id)
    .execute();
  return { driveId: drive.id, state: ok ? 'Completed' : 'CompletedMoreInfo', report, errorLog };
}

/**
 * The reason a drive failed, for the customer's drive log: the import's own errors name the
 * drive by id and its entries by their names on it; anything else (a system call's message,
 * with the data centre's paths in it) is not theirs to read.
 */
function customerReason(e: unknown): string {
  return isDriveseedError(e) ? e.message : 'the drive could not be read';
}

/** Works the queue until it is empty (or, with jobId, until that job has nothing left to claim). */
export async function drainQueue(db: Db, blobs: BlobStore, worker: string, now: () => Date, jobId?: string): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = [];
  for (let claim = await claimNext(db, worker, now(), jobId); claim; claim = await claimNext(db, worker, now(), jobId)) {
    outcomes.push(await importClaimed(db, blobs, claim, worker, now));
  }
  return outcomes;
}

/**
 * A service instance's import worker: polls the queue and imports what it claims. Several
 * instances on one database share the work; stop() waits for the drive in hand to finish.
 */
export function startImportWorker(
  db: Db,
  blobs: BlobStore,
  options: { pollMs?: number; now?: () => Date; log?: (message: string) => void } = {},
): { stop(): Promise<void> } {
  const worker = workerId();
  const now = options.now ?? (() => new Date());
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const outcome of await drainQueue(db, blobs, worker, now)) options.log?.(`imported drive ${outcome.driveId}: ${outcome.state}`);
      } catch (e) {
        options.log?.(`import worker: ${(e as Error).message}`);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollMs ?? 2000).unref();
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
