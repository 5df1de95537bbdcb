import { backup, type BackupProgress } from '../backup/archiver.js';
import { DriveseedError } from '../errors.js';
import type { BackupJob, FinishJob } from '../service/api/schemas.js';
import { openOrInitRepository, openVaultSession } from './vault-session.js';
import { liveProgress } from './progress-reporter.js';

export interface BackupNowResult {
  job: BackupJob;
  snapshotId: string;
  warnings: { path: string; message: string }[];
}

/**
 * An online backup into the vault, recorded as a job and, when it succeeds, a recovery point.
 * A failure still ends the job (Failed, with the error) so the console never shows a job
 * running forever; the snapshot is only named once every blob it needs is stored.
 */
export async function backupNow(password: string, onProgress?: (p: BackupProgress) => void): Promise<BackupNowResult> {
  const session = await openVaultSession();
  const policy = session.config.policy;
  if (!policy || policy.paths.length === 0) throw new DriveseedError('USAGE', 'nothing to back up: no protected paths', { hint: 'run `driveseed agent protect PATH…`' });
  const job = await session.client.call<BackupJob>('POST', `${session.serverPath}/jobs`, { kind: 'online' });
  const finish = (body: FinishJob) => session.client.call<BackupJob>('PUT', `${session.serverPath}/jobs/${job.id}`, body);
  const live = liveProgress(session.store, (progress) => session.client.call('POST', `${session.serverPath}/jobs/${job.id}/progress`, progress));
  try {
    const repo = await openOrInitRepository(live.store, password);
    const lock = await repo.lock(false, 'agent backup-now');
    try {
      await repo.loadIndex();
      const result = await backup(repo, { paths: policy.paths, excludes: policy.excludes, tags: ['agent'], onProgress: (p) => (live.update(p), onProgress?.(p)) });
      const s = result.summary;
      const done = await finish({
        state: result.warnings.length > 0 ? 'CompletedWithWarnings' : 'Completed',
        filesNew: s.filesNew,
        filesChanged: s.filesChanged,
        filesUnchanged: s.filesUnchanged,
        bytesRead: s.bytesRead,
        bytesSent: s.bytesAdded,
        warnings: result.warnings.length,
        recoveryPoint: { snapshotId: result.snapshotId, time: result.snapshot.time, totalBytes: s.totalBytes, files: s.totalFiles },
      });
      return { job: done, snapshotId: result.snapshotId, warnings: result.warnings };
    } finally {
      live.stop();
      await lock.release();
    }
  } catch (e) {
    live.stop();
    await finish({ state: 'Failed', filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0, error: (e as Error).message.slice(0, 2000) }).catch(() => undefined);
    throw e;
  }
}
