import { isStale, readLocks } from './lock.js';
import type { Repository } from './repository.js';

/** Removes the stale locks (or, with `all`, every lock, even of running processes). */
export async function removeLocks(repo: Repository, all: boolean): Promise<{ removed: number; remaining: number }> {
  const locks = await readLocks(repo.store, repo.key.encryption);
  const removed = locks.filter((l) => all || isStale(l));
  for (const lock of removed) await repo.store.delete(lock.name);
  return { removed: removed.length, remaining: locks.length - removed.length };
}
