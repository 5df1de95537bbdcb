import type { Db } from '../db/open-database.js';
import type { ServerTable } from '../db/schema.js';
import { DriveseedError } from '../../core/errors.js';

/**
 * Jobs always end. An agent that runs a job says so (a heartbeat, or a progress report) at
 * least every AGENT_HEARTBEAT_SECONDS; one killed with -9, or cut off for good, stops. The
 * service then closes the job as Failed after `timeout`, so the console never shows a backup
 * running forever. Should the agent come back after all, it may still finish the job
 * (finishJob accepts a job this module closed), so nothing it stored is lost to a partition.
 */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 600;

/** Starts every error text of a job closed here: how finishJob tells it from a job that failed by itself. */
export const CLOSED_BY_SERVICE = 'no heartbeat from the agent for';

export async function recordHeartbeat(db: Db, server: ServerTable, jobId: string, now: Date): Promise<void> {
  const result = await db
    .updateTable('backup_jobs')
    .set({ heartbeat_at: now.toISOString() })
    .where('id', '=', jobId)
    .where('server_id', '=', server.id)
    .where('state', '=', 'InProgress')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const job = await db.selectFrom('backup_jobs').select('state').where('id', '=', jobId).where('server_id', '=', server.id).executeTakeFirst();
    if (!job) throw new DriveseedError('NOT_FOUND', `no job ${jobId} for this server`);
    throw new DriveseedError('CONFLICT', `job ${jobId} has ended already (${job.state})`, { field: 'state' });
  }
}

/** Closes every InProgress job whose last sign of life (start, progress, heartbeat) is older than `timeoutSeconds`. */
export async function closeStaleJobs(db: Db, now: Date, timeoutSeconds: number): Promise<number> {
  const cutoff = new Date(now.getTime() - timeoutSeconds * 1000).toISOString();
  const result = await db
    .updateTable('backup_jobs')
    .set({
      state: 'Failed',
      ended_at: now.toISOString(),
      error: `${CLOSED_BY_SERVICE} ${timeoutSeconds} s: closed by the service (the agent was stopped, or lost its link)`,
    })
    .where('state', '=', 'InProgress')
    .where('started_at', '<', cutoff)
    .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', cutoff)]))
    .where((eb) => eb.or([eb('progress_at', 'is', null), eb('progress_at', '<', cutoff)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface JobSweeper {
  stop(): void;
}

/**
 * Runs closeStaleJobs about every half timeout (at most every minute). Several instances
 * may each run one: the update is the same whoever makes it.
 */
export function startJobSweeper(db: Db, options: { now: () => Date; timeoutSeconds: number; log?: (message: string) => void }): JobSweeper {
  const every = Math.min(60_000, Math.max(250, (options.timeoutSeconds * 1000) / 2));
  const timer = setInterval(() => {
    closeStaleJobs(db, options.now(), options.timeoutSeconds).then(
      (closed) => closed > 0 && options.log?.(`closed ${closed} backup jobs whose agent stopped sending heartbeats`),
      (e: Error) => options.log?.(`closing stale backup jobs failed: ${e.message}`),
    );
  }, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
