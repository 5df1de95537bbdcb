import type { FileProblem } from '../repo/index-loader.js';
import type { Repository } from '../repo/repository.js';
import { openSnapshot } from '../repo/snapshot-reader.js';
import type { StoredSnapshot } from '../repo/snapshot.js';
import { restore, type RestoreOptions, type RestoreProgress, type RestoreResult } from './restorer.js';

export interface SnapshotRestoreOptions extends Omit<RestoreOptions, 'onProgress'> {
  /** A damaged index or snapshot file, passed over. */
  onDamagedFile: (problem: FileProblem) => void;
  /** `totalBytes`: what the whole restore writes, when known (a restore of everything). */
  onProgress?: (progress: RestoreProgress, totalBytes: number | undefined) => void;
}

export interface SnapshotRestore {
  snapshot: StoredSnapshot;
  result: RestoreResult;
}

/**
 * A restore by reference, as every restore runs it (the engine's from any repository, the
 * agent's from its vault): the index and snapshots read past damaged files, the snapshot found, restored.
 */
export async function restoreSnapshot(repo: Repository, ref: string, options: SnapshotRestoreOptions): Promise<SnapshotRestore> {
  const { onDamagedFile, onProgress, ...restoreOptions } = options;
  const snapshot = await openSnapshot(repo, ref, onDamagedFile);
  // A selection, files left as they were, or nothing written: the snapshot's total is not this restore's.
  const whole = !options.includes?.length && !options.excludes?.length && options.overwrite === 'always' && !options.dryRun;
  const totalBytes = whole ? snapshot.summary?.totalBytes : undefined;
  const result = await restore(repo, snapshot, { ...restoreOptions, onProgress: onProgress && ((p) => onProgress(p, totalBytes)) });
  return { snapshot, result };
}
