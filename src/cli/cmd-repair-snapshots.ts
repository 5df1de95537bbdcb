import { Command } from 'commander';
import { repairSnapshots } from '../core/repo/repair.js';
import { addRepoOptions, openRepository, printJson, problemMessage, withLock, type RepoFlags } from './common.js';

export default function repairSnapshotsCommand(): Command {
  return addRepoOptions(
    new Command('snapshots').description('remove snapshot files that are damaged (do not match their name, decrypt or decode); try --dry-run first'),
  )
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the result as JSON')
    .action(async (flags: RepoFlags & { dryRun?: boolean; json?: boolean }) => {
      const repo = await openRepository(flags);
      const result = await withLock(repo, true, 'repair snapshots', () => repairSnapshots(repo, { dryRun: !!flags.dryRun }));
      if (flags.json) {
        printJson(result);
        return;
      }
      const verb = flags.dryRun ? 'would remove' : 'removed';
      for (const p of result.damaged) console.log(`${verb} ${p.file}: ${problemMessage(p)}`);
      for (const p of result.unread) console.log(`left alone ${p.file}: ${problemMessage(p)} (not damaged, only not read)`);
      console.log(`${result.intact} snapshots intact, ${result.damaged.length} damaged ${flags.dryRun ? 'would be ' : ''}removed`);
      if (result.unread.length > 0) process.exitCode = 1;
    });
}
