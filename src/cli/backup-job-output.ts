import type { BackupJob } from '../api/schemas.js';
import type { BackupNowResult } from '../client/agent/backup-now.js';
import { formatBytes } from './progress.js';

/** One line for a vault job, as `agent backup-now` and the scheduler print it. */
export function describeJob(job: BackupJob): string {
  const counts = `${job.filesNew} new, ${job.filesChanged} changed, ${job.filesUnchanged} unchanged files`;
  if (job.state === 'Waiting') return `${job.kind} job ${job.id.slice(0, 8)} Waiting: ${job.message ?? ''}`;
  if (job.state === 'Failed') return `${job.kind} job ${job.id.slice(0, 8)} Failed: ${job.error ?? ''}`;
  const retention = job.retention?.pointsForgotten
    ? `; retention forgot ${job.retention.pointsForgotten} points, freed ${formatBytes(job.retention.bytesFreed)}`
    : '';
  // A completed job's message is retention's note (skipped beside a running backup, say); a seed job's own says what the line before it said.
  const note = job.retention && job.message ? ` (${job.message})` : '';
  return `${job.kind} job ${job.id.slice(0, 8)} ${job.state}: ${counts}; sent ${formatBytes(job.bytesSent)}${job.snapshotId ? `; recovery point ${job.snapshotId.slice(0, 8)}` : ''}${retention}${note}`;
}

export function printBackupOutcome(result: BackupNowResult): void {
  for (const w of result.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  if (result.seed) {
    const { copy, healed } = result.seed;
    console.log(
      `seed completed from import job ${copy.importJob}: ${copy.copied} files (${formatBytes(copy.bytesCopied)}) copied inside the service, ${copy.skipped} already there` +
        `${healed.files > 0 ? `; ${healed.files} missing or damaged files (${formatBytes(healed.bytes)}) sent over the network` : ''}`,
    );
    console.log(describeJob(result.seed.job));
  }
  console.log(describeJob(result.job));
}
