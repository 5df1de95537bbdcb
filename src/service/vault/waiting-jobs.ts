import type { SettledJobs, SettleWaitingJobs } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { ServerTable } from '../db/schema.js';

/**
 * The seed landed: the snapshots the agent made while the drives travelled are restorable now.
 * Each Waiting job whose snapshot the agent names completes with it as its recovery point; a
 * Waiting job with none (its snapshot was withdrawn with a canceled seed, or an older agent did
 * not say) is Superseded: the seed's recovery points stand in its place. Waiting is never final.
 */
export async function settleWaitingJobs(db: Db, server: ServerTable, settle: SettleWaitingJobs, now: Date): Promise<SettledJobs> {
  const points = new Map(settle.points.map((p) => [p.snapshotId, p]));
  let completed = 0;
  let superseded = 0;
  await db.transaction().execute(async (tx) => {
    const waiting = await tx.selectFrom('backup_jobs').selectAll().where('server_id', '=', server.id).where('state', '=', 'Waiting').execute();
    for (const job of waiting) {
      const point = job.pending_snapshot_id ? points.get(job.pending_snapshot_id) : undefined;
      if (point) {
        await tx
          .insertInto('recovery_points')
          .values({
            id: point.snapshotId,
            vault_id: server.vault_id,
            server_id: server.id,
            subscription_id: server.subscription_id,
            job_id: job.id,
            time: point.time,
            total_bytes: point.totalBytes,
            added_bytes: job.bytes_sent,
            files: point.files,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        completed++;
      } else superseded++;
      await tx
        .updateTable('backup_jobs')
        .set({
          state: point ? 'Completed' : 'Superseded',
          ended_at: job.ended_at ?? now.toISOString(),
          snapshot_id: point ? point.snapshotId : null,
          message: point
            ? `restorable since the seed of import job ${settle.importJob} landed`
            : `superseded: the seed of import job ${settle.importJob} landed, and its recovery points replace this job's`,
        })
        .where('id', '=', job.id)
        .execute();
    }
  });
  return { completed, superseded };
}
