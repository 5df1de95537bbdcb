import type { ConsoleBackupJob, DatacenterView, OperatorImportJob, Overview, ProtectedItem, QueuedDrive } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { BackupJobTable } from '../db/schema.js';
import { DriveseedError } from '../../core/errors.js';
import { listImportJobs, type ImportJobView } from '../importexport/import-jobs.js';
import { toJob } from '../vault/vaults.js';
import { CLOSED_BY_SERVICE } from '../vault/job-liveness.js';
import { DEFAULT_MISSED_GRACE_MS, missedBackups, type ScheduledServer } from './missed-backups.js';
import type { Condition } from './condition.js';

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
    attention: (await subscriptionConditions(db, subscriptionId, now, { items, importJobs })).map(({ kind, message, link }) => ({ kind, message, link })),
  };
}

/**
 * Everything that needs a person now, each with what it is about: the console's "needs
 * attention" and the alerts (src/service/alerts) are the same list. `loaded` saves the
 * overview reading items and import jobs twice.
 */
export async function subscriptionConditions(
  db: Db,
  subscriptionId: string,
  now: Date,
  loaded: { items?: ProtectedItem[]; importJobs?: ImportJobView[]; missedGraceMs?: number } = {},
): Promise<Condition[]> {
  const items = loaded.items ?? (await protectedItems(db, subscriptionId));
  const importJobs = loaded.importJobs ?? (await listImportJobs(db, subscriptionId));
  const schedules = await scheduledServers(db, subscriptionId);
  return [
    ...backupAttention(items, await lastEndedJobs(db, subscriptionId, items)),
    ...missedBackups(schedules, now, loaded.missedGraceMs ?? DEFAULT_MISSED_GRACE_MS),
    ...importAttention(importJobs, now),
  ];
}

/** The last job of each item that has ended (a running one says nothing of the last outcome yet). */
async function lastEndedJobs(db: Db, subscriptionId: string, items: ProtectedItem[]): Promise<Map<string, ConsoleBackupJob>> {
  const ended = new Map<string, ConsoleBackupJob>();
  for (const item of items) {
    if (item.lastJob && item.lastJob.state !== 'InProgress') {
      ended.set(item.serverId, item.lastJob);
      continue;
    }
    const row = await jobsWithNames(db, subscriptionId)
      .where('backup_jobs.server_id', '=', item.serverId)
      .where('backup_jobs.state', '!=', 'InProgress')
      .orderBy('backup_jobs.started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row) ended.set(item.serverId, toConsoleJob(row));
  }
  return ended;
}

async function scheduledServers(db: Db, subscriptionId: string): Promise<ScheduledServer[]> {
  const rows = await db
    .selectFrom('servers')
    .innerJoin('vaults', 'vaults.id', 'servers.vault_id')
    .select(['servers.id', 'servers.name', 'servers.schedule', 'servers.time_zone', 'servers.policy_at', 'servers.registered_at', 'vaults.name as vault_name'])
    .where('servers.subscription_id', '=', subscriptionId)
    .where('servers.schedule', 'is not', null)
    .execute();
  const out: ScheduledServer[] = [];
  for (const row of rows) {
    const last = await db
      .selectFrom('backup_jobs')
      .select('started_at')
      .where('server_id', '=', row.id)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    out.push({
      serverId: row.id,
      serverName: row.name,
      vaultName: row.vault_name,
      schedule: row.schedule!,
      ...(row.time_zone ? { timeZone: row.time_zone } : {}),
      owedSince: latest(row.policy_at ?? row.registered_at, last?.started_at),
    });
  }
  return out;
}

function latest(a: string, b: string | undefined): string {
  return b !== undefined && Date.parse(b) > Date.parse(a) ? b : a;
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

/**
 * The last ended backup of a server failed: closed by the service for lack of heartbeats (a
 * stalled job), or failed by itself. A later success clears it.
 */
function backupAttention(items: ProtectedItem[], lastEnded: Map<string, ConsoleBackupJob>): Condition[] {
  const failed: Condition[] = [];
  for (const item of items) {
    const job = lastEnded.get(item.serverId);
    if (job?.state !== 'Failed') continue;
    const stalled = (job.error ?? '').startsWith(CLOSED_BY_SERVICE);
    failed.push({
      kind: stalled ? 'job-stalled' : 'backup-failed',
      subject: item.serverId,
      vaultName: item.vaultName,
      message: stalled
        ? `The backup of ${item.serverName} stalled and was closed: ${job.error}`
        : `The last backup of ${item.serverName} failed: ${job.error ?? 'no reason given'}`,
      link: `/jobs/${job.id}`,
    });
  }
  return [...failed, ...unprotected(items, lastEnded)];
}

/**
 * A protected server without a single recovery point has nothing to restore on the day it is
 * lost. It counts once a backup of it has ended without one (a seed on its way, Waiting, is on
 * track); a first backup still running neither raises nor clears it, so the alert does not
 * flap with each attempt. A server never backed up at all is the missed-schedule check's.
 */
function unprotected(items: ProtectedItem[], lastEnded: Map<string, ConsoleBackupJob>): Condition[] {
  return items
    .filter((item) => (item.paths.length > 0 || item.commandItems.length > 0) && item.recoveryPoints === 0)
    .flatMap((item) => {
      const job = lastEnded.get(item.serverId);
      if (!job || job.state === 'Waiting') return [];
      return [
        {
          kind: 'no-recovery-point' as const,
          subject: item.serverId,
          vaultName: item.vaultName,
          message: `${item.serverName} in vault ${item.vaultName} has no recovery point: nothing of it could be restored`,
          link: `/jobs/${job.id}`,
        },
      ];
    });
}

function importAttention(jobs: ImportJobView[], now: Date): Condition[] {
  const out: Condition[] = [];
  for (const job of jobs) {
    const link = `/import-jobs/${encodeURIComponent(job.name)}`;
    if (job.deadline && Date.parse(job.deadline.at) - now.getTime() < DEADLINE_WARNING_MS) {
      const passed = Date.parse(job.deadline.at) <= now.getTime();
      out.push({
        kind: 'deadline-near',
        subject: `${job.id}:${job.deadline.what}`,
        message: `Import job ${job.name}: ${job.deadline.what} ${job.deadline.at}${passed ? ' (passed)' : ''}`,
        link,
      });
    }
    for (const drive of job.drives) {
      // A drive shipped back from a Closed job keeps its errors: the data it lacked still needs a look.
      const withErrors = drive.state === 'CompletedMoreInfo' || (drive.state === 'ShippedBack' && drive.hasErrorLog && job.state === 'Closed');
      if (withErrors)
        out.push({
          kind: 'drive-needs-info',
          subject: drive.driveId,
          message: `Drive ${drive.driveId} of ${job.name} was imported with errors; read its error log`,
          link,
        });
      if (drive.state === 'NeverReceived')
        out.push({
          kind: 'drive-never-received',
          subject: drive.driveId,
          message: `Drive ${drive.driveId} of ${job.name} never arrived at the data centre`,
          link,
        });
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
