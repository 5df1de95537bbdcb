import { Command } from 'commander';
import { isStale, readLocks } from '../core/repo/lock.js';
import { addRepoOptions, openRepository, printJson, type RepoFlags } from './common.js';

export function unlockCommand(): Command {
  return addRepoOptions(new Command('unlock').description('remove stale locks (with --remove-all, every lock)'))
    .option('--remove-all', 'remove all locks, even of running processes')
    .option('--json', 'print the result as JSON')
    .action(async (flags: RepoFlags & { removeAll?: boolean; json?: boolean }) => {
      const repo = await openRepository(flags);
      const locks = await readLocks(repo.store, repo.key.encryption);
      const removed = locks.filter((l) => flags.removeAll || isStale(l));
      for (const lock of removed) await repo.store.delete(lock.name);
      if (flags.json) printJson({ removed: removed.length, remaining: locks.length - removed.length });
      else console.log(`removed ${removed.length} lock(s); ${locks.length - removed.length} still held`);
    });
}
