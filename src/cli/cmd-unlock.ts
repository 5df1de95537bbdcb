import { Command } from 'commander';
import { removeLocks } from '../core/repo/unlock.js';
import { addRepoOptions, openRepository, printJson, type RepoFlags } from './common.js';

export default function unlockCommand(): Command {
  return addRepoOptions(new Command('unlock').description('remove stale locks (with --remove-all, every lock)'))
    .option('--remove-all', 'remove all locks, even of running processes')
    .option('--json', 'print the result as JSON')
    .action(async (flags: RepoFlags & { removeAll?: boolean; json?: boolean }) => {
      const { removed, remaining } = await removeLocks(await openRepository(flags), !!flags.removeAll);
      if (flags.json) printJson({ removed, remaining });
      else console.log(`removed ${removed} lock(s); ${remaining} still held`);
    });
}
