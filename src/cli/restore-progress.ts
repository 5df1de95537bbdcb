import { resolve } from 'node:path';
import { restoreSnapshot, type SnapshotRestore } from '../core/backup/restore-snapshot.js';
import type { Repository } from '../core/repo/repository.js';
import { warnDamagedFile } from './common.js';
import { ProgressLine, renderTransfer } from './progress.js';

export interface RestoreFlags {
  target: string;
  include?: string[];
  verify?: boolean;
}

/**
 * The restore of `restore` and `agent restore` alike: a progress line, and warnings on stderr
 * (naming the repair command only where the user can run it: `repairable`).
 */
export async function restoreWithProgress(repo: Repository, ref: string, flags: RestoreFlags, repairable = true): Promise<SnapshotRestore> {
  const progress = new ProgressLine();
  const restored = await restoreSnapshot(repo, ref, {
    target: resolve(flags.target),
    includes: flags.include,
    verify: flags.verify,
    onDamagedFile: (problem) => warnDamagedFile(problem, repairable),
    onProgress: (p, totalBytes) => progress.update((t) => renderTransfer(t, p.files, p.bytes, totalBytes)),
    onWarning: (path, message) => process.stderr.write(`warning: ${path}: ${message}\n`),
  });
  progress.done();
  return restored;
}
