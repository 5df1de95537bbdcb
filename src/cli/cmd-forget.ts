import { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { forgetSnapshots } from '../core/repo/forget.js';
import { policyIsEmpty } from '../core/repo/forget-policy.js';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, withLock, type RepoFlags } from './common.js';
import { addKeepOptions, keepPolicyOf, type KeepFlags } from './keep-options.js';
import { formatBytes } from './progress.js';

interface ForgetFlags extends RepoFlags, KeepFlags {
  prune?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export default function forgetCommand(): Command {
  return addKeepOptions(
    addRepoOptions(
      new Command('forget').description(
        'remove snapshots by a keep policy (periods in local time, per host and paths, as restic), and with --prune the data only they used',
      ),
    ),
  )
    .option('--prune', 'also delete data no remaining snapshot uses')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ForgetFlags) => {
      const policy = keepPolicyOf(flags);
      if (policyIsEmpty(policy)) {
        throw new DriveseedError('USAGE', 'no keep policy given; refusing to remove every snapshot', { hint: 'pass at least one --keep-… option' });
      }
      const repo = await openRepository(flags);
      const result = await withLock(repo, true, 'forget', () =>
        forgetSnapshots(repo, policy, { prune: flags.prune, dryRun: flags.dryRun, onDamagedFile: warnDamagedFile }),
      );
      if (flags.json) {
        const reasons = Object.fromEntries(result.plan.reasons);
        printJson({
          kept: result.plan.keep.map((s) => s.id),
          reasons,
          removed: result.plan.remove.map((s) => s.id),
          prune: result.pruned,
          dryRun: !!flags.dryRun,
        });
        return;
      }
      for (const s of result.plan.keep) console.log(`keep snapshot ${shortId(s.id)} (${s.time}): ${result.plan.reasons.get(s.id)?.join(', ')}`);
      for (const s of result.plan.remove) console.log(`${flags.dryRun ? 'would remove' : 'removed'} snapshot ${shortId(s.id)} (${s.time})`);
      console.log(`${result.plan.keep.length} snapshots kept, ${result.plan.remove.length} ${flags.dryRun ? 'would be ' : ''}removed`);
      const p = result.pruned;
      if (p)
        console.log(
          `prune: ${p.packsDeleted} packs deleted, ${p.packsRepacked} repacked, ${p.packsKept} kept, ${formatBytes(Math.max(0, p.bytesFreed))} freed`,
        );
    });
}
