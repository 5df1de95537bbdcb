import type { BackupJob, FinishJob, StartJob } from '../../api/schemas.js';
import type { VaultSession } from './vault-session.js';
import { closeAbandonedJobs, guardJob } from './job-guard.js';

/** A job this run started in the vault: what the console shows while it runs, and how it ended. */
export interface VaultJob {
  job: BackupJob;
  finish(outcome: FinishJob): Promise<BackupJob>;
  /** Ends the job Failed with the error that ended the run (and how its hooks ran); a service that cannot be told must not hide that error. */
  fail(error: unknown, hooks?: FinishJob['hooks']): Promise<void>;
}

export async function startVaultJob(session: VaultSession, start: StartJob): Promise<VaultJob> {
  await closeAbandonedJobs(session);
  const job = await session.client.request('startJob', { params: session.server, body: start });
  const guard = await guardJob(session, job.id, (error) => fail(error));
  const finish = async (outcome: FinishJob) => {
    guard.stop();
    const done = await session.client.request('finishJob', { params: { ...session.server, jobId: job.id }, body: outcome });
    await guard.forget();
    return done;
  };
  const fail = async (error: unknown, hooks?: FinishJob['hooks']) => {
    const message = (error as Error).message.slice(0, 2000);
    const nothingDone = { filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0 };
    await finish({ state: 'Failed', ...nothingDone, error: message, ...(hooks ? { hooks } : {}) }).then(
      () => undefined,
      () => undefined,
    );
  };
  return { job, finish, fail };
}
