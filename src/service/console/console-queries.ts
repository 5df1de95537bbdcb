import type { Attention, ConsoleBackupJob, DatacenterView, OperatorImportJob, Overview, ProtectedItem, QueuedDrive } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { BackupJobTable } from '../db/schema.js';
import { DriveseedError } from '../../core/errors.js';
import { listImportJobs, type ImportJobView } from '../importexport/import-jobs.js';
import { toJob } from '../vault/vaults.js';

/** A deadline this close is worth a line under "needs attention". */
export const DEADLINE_WARNING_MS = 3 * 86_400_000;

type JobRow = BackupJobTable & { server_name: string; vault_name: string };

function jobsWithNames(db: Db, subscriptionId: string) {
  return db
    .selectFrom('backup_jobs')
    .innerJoin('servers', 'servers.id', 'backup_jobs.server_id')
    .innerJoin('vaults', 'vaults.id', 'backup_jobs.vault_id')
    .selectAll('backup_jobs')
    .select(['servers.name as server_name', 'vaults.name as vault_name'])
    .where('backup_jobs.subscription_id', '=', subscriptionId);
}

function toConsoleJob(row: JobRow): ConsoleBackupJob {
  return { ...toJob(row), serverName: row.server_name, vaultName: row.vault_name };
}

export async function listBackupJobs(
  db: Db,
  subscriptionId: string,
  filter: { state?: string; serverId?: string; limit?: number },
): Promise<ConsoleBackupJob[]> {
  let query = jobsWithNames(db, subscriptionId);
  if (filter.state) query = query.where('backup_jobs.state', '=', filter.state);
  if (filter.serverId) query = query.where('backup_jobs.server_id', '=', filter.serverId);
  const rows = await query
    .orderBy('backup_jobs.started_at', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map(toConsoleJob);
}

/** A job of this subscription; another subscription's job id is simply not found. */
export async function getBackupJob(db: Db, subscriptionId: string, jobId: string): Promise<ConsoleBackupJob> {
  const row = await jobsWithNames(db, subscriptionId).where('backup_jobs.id', '=', jobId).executeTakeFirst();
  if (!row) throw new DriveseedError('NOT_FOUND', `no backup job ${jobId}`);
  return toConsoleJob(row);
}

export async function overview(db: Db, subscriptionId: string, now: Date): Promise<Overview> {
  const vaults = await db
    .selectFrom('vaults')
    .leftJoin('servers', 'servers.vault_id', 'vaults.id')
    .select(['vaults.name', (eb) => eb.fn.count<number>('servers.id').as('servers')])
    .where('vaults.subscription_id', '=', subscriptionId)
    .groupBy('vaults.name')
    .orderBy('vaults.name')
    .execute();
  const items = await protectedItems(db, subscriptionId);
  const importJobs = await listImportJobs(db, subscriptionId);
  return {
    vaults: vaults.map((v) => ({ name: v.name, servers: Number(v.servers) })),
    items,
    storedBytes: items.reduce((sum, item) => sum + item.storedBytes, 0),
    importJobs: importJobs.length,
    attention: [...backupAttention(items), ...importAttention(importJobs, now)],
  };
}

async function protectedItems(db: Db, subscriptionId: string): Promise<ProtectedItem[]> {
  const servers = await db
    .selectFrom('servers')
    .innerJoin('vaults', 'vaults.id', 'servers.vault_id')
    .select(['servers.id', 'servers.name', 'servers.paths', 'vaults.name as vault_name'])
    .where('servers.subscription_id', '=', subscriptionId)
    .orderBy('vaults.name')
    .orderBy('servers.name')
    .execute();
  const points = await db
    .selectFrom('recovery_points')
    .select(['server_id', (eb) => eb.fn.count<number>('id').as('n'), (eb) => eb.fn.sum<number>('added_bytes').as('stored')])
    .where('subscription_id', '=', subscriptionId)
    .groupBy('server_id')
    .execute();
  const items: ProtectedItem[] = [];
  for (const server of servers) {
    const last = await jobsWithNames(db, subscriptionId)
      .where('backup_jobs.server_id', '=', server.id)
      .orderBy('backup_jobs.started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const stats = points.find((p) => p.server_id === server.id);
    const withItems = await jobsWithNames(db, subscriptionId)
      .where('backup_jobs.server_id', '=', server.id)
      .where('backup_jobs.items', 'is not', null)
      .orderBy('backup_jobs.started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    items.push({
      serverId: server.id,
      serverName: server.name,
      vaultName: server.vault_name,
      paths: JSON.parse(server.paths) as string[],
      ...(last ? { lastJob: toConsoleJob(last) } : {}),
      commandItems: commandItemsOf(withItems),
      recoveryPoints: Number(stats?.n ?? 0),
      storedBytes: Number(stats?.stored ?? 0),
    });
  }
  return items;
}

function commandItemsOf(job: JobRow | undefined): ProtectedItem['commandItems'] {
  const stored = job ? toJob(job).items : undefined;
  return (stored ?? []).map((item) => ({ ...item, jobId: job!.id, storedAt: job!.ended_at ?? job!.started_at }));
}

function backupAttention(items: ProtectedItem[]): Attention[] {
  const failed = items
    .filter((item) => item.lastJob?.state === 'Failed')
    .map((item) => ({
      kind: 'backup-failed' as const,
      message: `The last backup of ${item.serverName} failed: ${item.lastJob!.error ?? 'no reason given'}`,
      link: `/jobs/${item.lastJob!.id}`,
    }));
  return [...failed, ...unprotected(items)];
}

/**
 * A protected server without a single recovery point has nothing to restore on the day it is
 * lost. One whose first backup runs, or whose seed is on its way, is on track and not listed.
 */
function unprotected(items: ProtectedItem[]): Attention[] {
  const onTrack = (state: string | undefined) => state === 'InProgress' || state === 'Waiting';
  return items
    .filter((item) => (item.paths.length > 0 || item.commandItems.length > 0) && item.recoveryPoints === 0 && !onTrack(item.lastJob?.state))
    .map((item) => ({
      kind: 'no-recovery-point' as const,
      message: `${item.serverName} in vault ${item.vaultName} has no recovery point: nothing of it could be restored`,
      link: item.lastJob ? `/jobs/${item.lastJob.id}` : '/',
    }));
}

function importAttention(jobs: ImportJobView[], now: Date): Attention[] {
  const out: Attention[] = [];
  for (const job of jobs) {
    const link = `/import-jobs/${encodeURIComponent(job.name)}`;
    if (job.deadline && Date.parse(job.deadline.at) - now.getTime() < DEADLINE_WARNING_MS) {
      out.push({ kind: 'deadline-near', message: `Import job ${job.name}: ${job.deadline.what} ${job.deadline.at}`, link });
    }
    for (const drive of job.drives) {
      // A drive shipped back from a Closed job keeps its errors: the data it lacked still needs a look.
      const withErrors = drive.state === 'CompletedMoreInfo' || (drive.state === 'ShippedBack' && drive.hasErrorLog && job.state === 'Closed');
      if (withErrors)
        out.push({ kind: 'drive-needs-info', message: `Drive ${drive.driveId} of ${job.name} was imported with errors; read its error log`, link });
      if (drive.state === 'NeverReceived')
        out.push({ kind: 'drive-never-received', message: `Drive ${drive.driveId} of ${job.name} never arrived at the data centre`, link });
    }
  }
  return out;
}

/** The drive states in which a drive is at the data centre and not yet imported: today's import queue. */
const QUEUED_STATES = new Set(['Received', 'Transferring']);

/** The operator's view across subscriptions: drives at the data centre, with the import queue's progress. */
export async function datacenterView(db: Db): Promise<DatacenterView> {
  const jobs = await operatorImportJobs(db);
  const rows = await db.selectFrom('import_queue').selectAll().where('state', '!=', 'done').execute();
  const queued = new Map(rows.map((r) => [r.drive_id, r]));
  const queue = importQueue(jobs).map((drive) => {
    const row = queued.get(drive.driveId);
    return row
      ? {
          ...drive,
          queue: {
            state: row.state,
            ...(row.claimed_by ? { claimedBy: row.claimed_by } : {}),
            bytesDone: Number(row.bytes_done),
            bytesTotal: Number(row.bytes_total),
          },
        }
      : drive;
  });
  return { incoming: jobs.filter((j) => j.state === 'Shipping'), queue, jobs };
}

async function operatorImportJobs(db: Db): Promise<OperatorImportJob[]> {
  const owners = new Map((await db.selectFrom('import_jobs').select(['id', 'subscription_id']).execute()).map((r) => [r.id, r.subscription_id]));
  return (await listImportJobs(db)).map((job) => ({ ...job, subscriptionId: owners.get(job.id) ?? '' }));
}

function importQueue(jobs: OperatorImportJob[]): QueuedDrive[] {
  return jobs
    .flatMap((job) =>
      job.drives
        .filter((d) => QUEUED_STATES.has(d.state))
        .map((d) => ({ subscriptionId: job.subscriptionId, jobName: job.name, driveId: d.driveId, state: d.state, since: d.stateChangedAt, bytes: d.bytes })),
    )
    .sort((a, b) => a.since.localeCompare(b.since));
}
