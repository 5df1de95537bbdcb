import { randomUUID } from 'node:crypto';
import type {
  BackupJob,
  FinishJob,
  JobHooks,
  JobProgress,
  PolicyDocument,
  ProtectionPolicy,
  RecoveryPoint,
  Retention,
  Server,
  ServerStatus,
  StoredItem,
  Vault,
} from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { BackupJobTable, RecoveryPointTable, ServerTable } from '../db/schema.js';
import type { Caller } from '../http/auth.js';
import { DriveseedError } from '../../core/errors.js';
import { CLOSED_BY_SERVICE } from './job-liveness.js';
import { forecastExpiry } from '../../core/repo/retention-forecast.js';

/** Vaults are made on first registration, as the seed's users create one in the portal first. */
export async function ensureVault(db: Db, subscriptionId: string, name: string, now: Date): Promise<Vault> {
  await db
    .insertInto('vaults')
    .values({ id: randomUUID(), subscription_id: subscriptionId, name, created_at: now.toISOString() })
    .onConflict((oc) => oc.columns(['subscription_id', 'name']).doNothing())
    .execute();
  return getVault(db, subscriptionId, name);
}

export async function getVault(db: Db, subscriptionId: string, name: string): Promise<Vault> {
  const row = await db.selectFrom('vaults').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (!row) throw new DriveseedError('NOT_FOUND', `no vault ${name} in this subscription`);
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

/** Registering a server name again (a reinstalled agent) moves it to the new application. */
export async function registerServer(db: Db, subscriptionId: string, vaultName: string, name: string, applicationId: string, now: Date): Promise<Server> {
  const vault = await getVault(db, subscriptionId, vaultName);
  const app = await db.selectFrom('applications').select('id').where('id', '=', applicationId).where('subscription_id', '=', subscriptionId).executeTakeFirst();
  if (!app) throw new DriveseedError('USAGE', `no application ${applicationId} in this subscription`, { field: 'applicationId' });
  await db
    .insertInto('servers')
    .values({
      id: randomUUID(),
      vault_id: vault.id,
      subscription_id: subscriptionId,
      name,
      application_id: applicationId,
      paths: '[]',
      schedule: null,
      registered_at: now.toISOString(),
    })
    .onConflict((oc) => oc.columns(['vault_id', 'name']).doUpdateSet({ application_id: applicationId }))
    .execute();
  const row = await db.selectFrom('servers').selectAll().where('vault_id', '=', vault.id).where('name', '=', name).executeTakeFirstOrThrow();
  return toServer(row);
}

/** The vault's servers, by name; `name` picks one. */
export async function listServers(db: Db, subscriptionId: string, vaultName: string, name?: string): Promise<Server[]> {
  const vault = await getVault(db, subscriptionId, vaultName);
  let query = db.selectFrom('servers').selectAll().where('vault_id', '=', vault.id);
  if (name !== undefined) query = query.where('name', '=', name);
  return (await query.orderBy('name').execute()).map(toServer);
}

/** The server row, if the caller may act for it: the owner, or the server's own application. */
export async function serverFor(db: Db, caller: Caller, vaultName: string, serverId: string): Promise<ServerTable> {
  const row = await db
    .selectFrom('servers')
    .innerJoin('vaults', 'vaults.id', 'servers.vault_id')
    .selectAll('servers')
    .where('servers.id', '=', serverId)
    .where('vaults.name', '=', vaultName)
    .where('servers.subscription_id', '=', caller.subscriptionId)
    .executeTakeFirst();
  if (!row) throw new DriveseedError('NOT_FOUND', `no server ${serverId} in vault ${vaultName}`);
  if (caller.role !== 'owner' && caller.applicationId !== row.application_id)
    throw new DriveseedError('FORBIDDEN', 'this application is not the one registered for the server');
  return row;
}

export async function setPolicy(db: Db, server: ServerTable, policy: ProtectionPolicy, now: Date): Promise<Server> {
  if (policy.timeZone !== undefined && !isTimeZone(policy.timeZone))
    throw new DriveseedError('USAGE', `not a time zone: ${policy.timeZone}`, { field: 'timeZone', hint: 'an IANA name such as Europe/Amsterdam' });
  await db
    .updateTable('servers')
    .set({
      paths: JSON.stringify(policy.paths),
      schedule: policy.schedule ?? null,
      retention: policy.retention ? JSON.stringify(policy.retention) : null,
      time_zone: policy.timeZone ?? null,
      policy_document: policy.document ? JSON.stringify(policy.document) : null,
      policy_at: now.toISOString(),
    })
    .where('id', '=', server.id)
    .execute();
  return toServer(await db.selectFrom('servers').selectAll().where('id', '=', server.id).executeTakeFirstOrThrow());
}

/** A stored zone the platform still knows (a downgraded tz database may not): else the service's own. */
function knownZone(zone: string | null | undefined): string | undefined {
  return zone && isTimeZone(zone) ? zone : undefined;
}

/** Whether the platform knows the zone: the schedule check and the expiry forecast read days in it. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export async function startJob(db: Db, server: ServerTable, kind: string, now: Date): Promise<BackupJob> {
  const row: BackupJobTable = {
    id: randomUUID(),
    vault_id: server.vault_id,
    server_id: server.id,
    subscription_id: server.subscription_id,
    kind,
    state: 'InProgress',
    started_at: now.toISOString(),
    ended_at: null,
    files_new: 0,
    files_changed: 0,
    files_unchanged: 0,
    bytes_read: 0,
    bytes_sent: 0,
    warnings: 0,
    error: null,
    snapshot_id: null,
    message: null,
  };
  await db.insertInto('backup_jobs').values(row).execute();
  return toJob(row);
}

/** Ends a job and, with it, records its recovery point: both or neither. */
export async function finishJob(db: Db, server: ServerTable, jobId: string, result: FinishJob, now: Date): Promise<BackupJob> {
  const job = await db.selectFrom('backup_jobs').selectAll().where('id', '=', jobId).where('server_id', '=', server.id).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no job ${jobId} for this server`);
  // A job the service closed for lack of heartbeats may still be finished by its agent: it was alive after all.
  const closedByService = job.state === 'Failed' && (job.error ?? '').startsWith(CLOSED_BY_SERVICE);
  if (job.state !== 'InProgress' && !closedByService) throw new DriveseedError('USAGE', `job ${jobId} has ended already (${job.state})`, { field: 'state' });
  if (result.pendingSnapshotId && result.state !== 'Waiting')
    throw new DriveseedError('USAGE', 'only a waiting job has a pending snapshot', { field: 'pendingSnapshotId' });
  if ((result.state === 'Completed' || result.state === 'CompletedWithWarnings') && !result.recoveryPoint)
    throw new DriveseedError('USAGE', 'a successful job needs its recovery point', { field: 'recoveryPoint' });
  if (result.state === 'Waiting' && result.recoveryPoint)
    throw new DriveseedError('USAGE', 'a waiting job has no recovery point yet', { field: 'recoveryPoint' });
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable('backup_jobs')
      .set({
        state: result.state,
        ended_at: now.toISOString(),
        files_new: result.filesNew,
        files_changed: result.filesChanged,
        files_unchanged: result.filesUnchanged,
        bytes_read: result.bytesRead,
        bytes_sent: result.bytesSent,
        warnings: result.warnings,
        error: result.error ?? null,
        message: result.message ?? null,
        snapshot_id: result.recoveryPoint?.snapshotId ?? null,
        pending_snapshot_id: result.pendingSnapshotId ?? null,
        points_forgotten: result.retention ? result.retention.forgotten.length : null,
        bytes_freed: result.retention ? result.retention.bytesFreed : null,
        hooks: result.hooks ? JSON.stringify(result.hooks) : null,
        items: result.items?.length ? JSON.stringify(result.items) : null,
      })
      .where('id', '=', jobId)
      .execute();
    // The agent forgot these snapshots in the repository: their points can no longer be restored.
    const forgotten = (result.retention?.forgotten ?? []).filter((id) => id !== result.recoveryPoint?.snapshotId);
    for (let i = 0; i < forgotten.length; i += 500) {
      await tx
        .deleteFrom('recovery_points')
        .where('server_id', '=', server.id)
        .where('id', 'in', forgotten.slice(i, i + 500))
        .execute();
    }
    if (result.recoveryPoint) {
      const point: RecoveryPointTable = {
        id: result.recoveryPoint.snapshotId,
        vault_id: server.vault_id,
        server_id: server.id,
        subscription_id: server.subscription_id,
        job_id: jobId,
        time: result.recoveryPoint.time,
        total_bytes: result.recoveryPoint.totalBytes,
        added_bytes: result.bytesSent,
        files: result.recoveryPoint.files,
      };
      await tx
        .insertInto('recovery_points')
        .values(point)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  });
  return toJob(await db.selectFrom('backup_jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow());
}

export async function serverStatus(db: Db, server: ServerTable): Promise<ServerStatus> {
  const jobs = await db.selectFrom('backup_jobs').selectAll().where('server_id', '=', server.id).orderBy('started_at', 'desc').limit(50).execute();
  const points = await db.selectFrom('recovery_points').selectAll().where('server_id', '=', server.id).orderBy('time', 'desc').execute();
  // In the agent's zone: its retention counts its days, not the service's.
  const expiry = server.retention ? forecastExpiry(points, JSON.parse(server.retention) as Retention, knownZone(server.time_zone)) : new Map<string, string>();
  return {
    server: toServer(server),
    jobs: jobs.map(toJob),
    recoveryPoints: points.map((row) => {
      const expiresAt = expiry.get(row.id);
      return { ...toPoint(row), ...(expiresAt ? { expiresAt } : {}) };
    }),
  };
}

function toServer(row: ServerTable): Server {
  return {
    id: row.id,
    vaultId: row.vault_id,
    name: row.name,
    applicationId: row.application_id,
    paths: JSON.parse(row.paths) as string[],
    ...(row.schedule ? { schedule: row.schedule } : {}),
    ...(row.retention ? { retention: JSON.parse(row.retention) as Retention } : {}),
    ...(row.time_zone ? { timeZone: row.time_zone } : {}),
    ...(row.policy_document ? { policyDocument: JSON.parse(row.policy_document) as PolicyDocument } : {}),
    registeredAt: row.registered_at,
  };
}

/**
 * A running job's progress, as the agent reports it. Only an InProgress job takes it, so a
 * late report cannot overwrite a finished job's figures.
 */
export async function recordProgress(db: Db, server: ServerTable, jobId: string, progress: JobProgress, now: Date): Promise<void> {
  const result = await db
    .updateTable('backup_jobs')
    .set({
      progress_files: progress.files,
      progress_bytes: progress.bytes,
      progress_errors: progress.errors,
      progress_sent: progress.sent,
      progress_at: now.toISOString(),
    })
    .where('id', '=', jobId)
    .where('server_id', '=', server.id)
    .where('state', '=', 'InProgress')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const exists = await db.selectFrom('backup_jobs').select('state').where('id', '=', jobId).where('server_id', '=', server.id).executeTakeFirst();
    if (!exists) throw new DriveseedError('NOT_FOUND', `no job ${jobId} for this server`);
    throw new DriveseedError('CONFLICT', `job ${jobId} has ended already (${exists.state})`, { field: 'state' });
  }
}

/** A job row as the API shows it. PostgreSQL returns bigint columns as strings; the API speaks numbers. */
export function toJob(row: BackupJobTable): BackupJob {
  return {
    id: row.id,
    serverId: row.server_id,
    kind: row.kind,
    state: row.state as BackupJob['state'],
    startedAt: row.started_at,
    ...(row.ended_at ? { endedAt: row.ended_at } : {}),
    filesNew: Number(row.files_new),
    filesChanged: Number(row.files_changed),
    filesUnchanged: Number(row.files_unchanged),
    bytesRead: Number(row.bytes_read),
    bytesSent: Number(row.bytes_sent),
    warnings: Number(row.warnings),
    ...(row.error ? { error: row.error } : {}),
    ...(row.message ? { message: row.message } : {}),
    ...(row.snapshot_id ? { snapshotId: row.snapshot_id } : {}),
    ...(row.points_forgotten !== null && row.points_forgotten !== undefined
      ? { retention: { pointsForgotten: Number(row.points_forgotten), bytesFreed: Number(row.bytes_freed ?? 0) } }
      : {}),
    ...hooksOf(row),
    ...itemsOf(row),
    ...(row.progress_at
      ? {
          progress: {
            files: Number(row.progress_files ?? 0),
            bytes: Number(row.progress_bytes ?? 0),
            errors: Number(row.progress_errors ?? 0),
            sent: Number(row.progress_sent ?? 0),
            at: row.progress_at,
          },
        }
      : {}),
  };
}

/** Written by finishJob from a validated FinishJob; a value that does not parse shows as no hooks, not as an error. */
function hooksOf(row: BackupJobTable): { hooks?: JobHooks } {
  if (!row.hooks) return {};
  try {
    return { hooks: JSON.parse(row.hooks) as JobHooks };
  } catch {
    return {};
  }
}

function itemsOf(row: BackupJobTable): { items?: StoredItem[] } {
  if (!row.items) return {};
  try {
    return { items: JSON.parse(row.items) as StoredItem[] };
  } catch {
    return {};
  }
}

export function toPoint(row: RecoveryPointTable): RecoveryPoint {
  return {
    id: row.id,
    serverId: row.server_id,
    jobId: row.job_id,
    time: row.time,
    totalBytes: Number(row.total_bytes),
    addedBytes: Number(row.added_bytes),
    files: Number(row.files),
  };
}
