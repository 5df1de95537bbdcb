import { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { forgetSnapshots } from '../core/repo/forget.js';
import { policyIsEmpty, type KeepPolicy } from '../core/repo/forget-policy.js';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, wholeNumber, withLock, type RepoFlags } from './common.js';
import { formatBytes } from './progress.js';

interface ForgetFlags extends RepoFlags {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  prune?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export default function forgetCommand(): Command {
  return addRepoOptions(new Command('forget').description('remove snapshots by a keep policy, and with --prune the data only they used'))
    .option('--keep-last <n>', 'keep the N newest snapshots', wholeNumber)
    .option('--keep-daily <n>', 'keep the newest snapshot of each of the last N days', wholeNumber)
    .option('--keep-weekly <n>', 'keep the newest snapshot of each of the last N weeks', wholeNumber)
    .option('--keep-monthly <n>', 'keep the newest snapshot of each of the last N months', wholeNumber)
    .option('--prune', 'also delete data no remaining snapshot uses')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ForgetFlags) => {
      const policy: KeepPolicy = { last: flags.keepLast, daily: flags.keepDaily, weekly: flags.keepWeekly, monthly: flags.keepMonthly };
      if (policyIsEmpty(policy)) {
        throw new DriveseedError('USAGE', 'no keep policy given; refusing to remove every snapshot', { hint: 'pass at least one --keep-… option' });
      }
      const repo = await openRepository(flags);
      const result = await withLock(repo, true, 'forget', () =>
        forgetSnapshots(repo, policy, { prune: flags.prune, dryRun: flags.dryRun, onDamagedFile: warnDamagedFile }),
      );
      if (flags.json) {
        printJson({ kept: result.plan.keep.map((s) => s.id), removed: result.plan.remove.map((s) => s.id), prune: result.pruned, dryRun: !!flags.dryRun });
        return;
      }
      for (const s of result.plan.remove) console.log(`${flags.dryRun ? 'would remove' : 'removed'} snapshot ${shortId(s.id)} (${s.time})`);
      console.log(`${result.plan.keep.length} snapshots kept, ${result.plan.remove.length} ${flags.dryRun ? 'would be ' : ''}removed`);
      const p = result.pruned;
      if (p)
        console.log(
          `prune: ${p.packsDeleted} packs deleted, ${p.packsRepacked} repacked, ${p.packsKept} kept, ${formatBytes(Math.max(0, p.bytesFreed))} freed`,
        );
    });
}
