import { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { planForget, policyIsEmpty, type KeepPolicy } from '../core/repo/forget-policy.js';
import { shortId } from '../core/repo/ids.js';
import { SNAPSHOTS_DIR } from '../core/repo/layout.js';
import { prune } from '../core/repo/prune.js';
import { addRepoOptions, openRepository, positiveInt, printJson, withLock, type RepoFlags } from './common.js';
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

export function forgetCommand(): Command {
  return addRepoOptions(new Command('forget').description('remove snapshots by a keep policy, and with --prune the data only they used'))
    .option('--keep-last <n>', 'keep the N newest snapshots', positiveInt)
    .option('--keep-daily <n>', 'keep the newest snapshot of each of the last N days', positiveInt)
    .option('--keep-weekly <n>', 'keep the newest snapshot of each of the last N weeks', positiveInt)
    .option('--keep-monthly <n>', 'keep the newest snapshot of each of the last N months', positiveInt)
    .option('--prune', 'also delete data no remaining snapshot uses')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ForgetFlags) => {
      const policy: KeepPolicy = { last: flags.keepLast, daily: flags.keepDaily, weekly: flags.keepWeekly, monthly: flags.keepMonthly };
      if (policyIsEmpty(policy)) {
        throw new DriveseedError('USAGE', 'no keep policy given; refusing to remove every snapshot', { hint: 'pass at least one --keep-… option' });
      }
      const repo = await openRepository(flags);
      const result = await withLock(repo, true, 'forget', async () => {
        const plan = planForget(await repo.listSnapshots(), policy);
        if (flags.dryRun) return { plan, pruned: undefined };
        for (const snap of plan.remove) await repo.store.delete(SNAPSHOTS_DIR + snap.id);
        if (!flags.prune) return { plan, pruned: undefined };
        const damaged = await repo.loadIndex();
        if (damaged.length > 0) {
          throw new DriveseedError('CORRUPT', `prune refused: ${damaged[0].file} is damaged (${damaged[0].message})`, {
            hint: 'run `driveseed check --read-data` first; snapshots were forgotten, no data was deleted',
          });
        }
        return { plan, pruned: await prune(repo) };
      });
      if (flags.json) {
        printJson({ kept: result.plan.keep.map((s) => s.id), removed: result.plan.remove.map((s) => s.id), prune: result.pruned, dryRun: !!flags.dryRun });
        return;
      }
      for (const s of result.plan.remove) console.log(`${flags.dryRun ? 'would remove' : 'removed'} snapshot ${shortId(s.id)} (${s.time})`);
      console.log(`${result.plan.keep.length} snapshots kept, ${result.plan.remove.length} ${flags.dryRun ? 'would be ' : ''}removed`);
      const p = result.pruned;
      if (p) console.log(`prune: ${p.packsDeleted} packs deleted, ${p.packsRepacked} repacked, ${p.packsKept} kept, ${formatBytes(Math.max(0, p.bytesFreed))} freed`);
    });
}
