import { isDriveseedError } from '../../core/errors.js';
import { forgetSnapshots, pruneIfSound } from '../../core/repo/forget.js';
import type { KeepPolicy } from '../../core/repo/forget-policy.js';
import type { Repository } from '../../core/repo/repository.js';
import type { StoredSnapshot } from '../../core/repo/snapshot.js';

/** What retention did after a backup: the points it forgot, the bytes the prune freed, or why it did nothing. */
export interface RetentionOutcome {
  forgotten: StoredSnapshot[];
  bytesFreed: number;
  /** Set when retention did not run to the end: the backup stands, the next one tries again. */
  note?: string;
}

/**
 * Azure Backup's retention, on the agent's side (only the agent holds the key): after a backup,
 * the server's recovery points the keep rules no longer keep are forgotten, and what only they
 * used is pruned. All of the server's points are one series (paths change over a server's
 * life; its policy does not start again each time). The point the backup just made is never
 * forgotten, whatever the rules: a backup that deletes itself would be a surprise.
 *
 * The caller runs this only on a repository the vault holds whole: while a seed travels, its
 * points (and the packs under them) are not in the vault, so they are never pruned.
 *
 * It takes the exclusive lock; a backup running beside it (another agent process, a
 * scheduled run) holds a shared one, and then retention is skipped with a note, not an error.
 */
export async function applyRetention(repo: Repository, policy: KeepPolicy, newest: string): Promise<RetentionOutcome> {
  let lock;
  try {
    lock = await repo.lock(true, 'agent retention');
  } catch (e) {
    if (!isDriveseedError(e, 'LOCKED')) throw e;
    return { forgotten: [], bytesFreed: 0, note: `retention skipped (${e.message}); it runs again after the next backup` };
  }
  try {
    const { plan, unreadable } = await forgetSnapshots(repo, policy, { groupBy: 'all', pinned: new Set([newest]) });
    // Nothing forgotten, nothing to free: a prune reads every tree, too much to pay after each backup for naught.
    if (plan.remove.length === 0) return { forgotten: [], bytesFreed: 0 };
    try {
      const pruned = await pruneIfSound(repo, unreadable);
      return { forgotten: plan.remove, bytesFreed: Math.max(0, pruned.bytesFreed) };
    } catch (e) {
      // A damaged file refuses the prune; the points are forgotten all the same, and the backup stands.
      if (!isDriveseedError(e, 'CORRUPT')) throw e;
      return { forgotten: plan.remove, bytesFreed: 0, note: `retention forgot ${plan.remove.length} points but did not prune: ${e.message}` };
    }
  } finally {
    await lock.release();
  }
}
