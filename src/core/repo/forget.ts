import { DriveseedError } from '../errors.js';
import { planForget, type ForgetPlan, type KeepPolicy } from './forget-policy.js';
import { SNAPSHOTS_DIR } from './layout.js';
import { prune, type PruneReport } from './prune.js';
import type { Repository } from './repository.js';
import type { FileProblem } from './index-loader.js';
import { readableSnapshots } from './snapshot-reader.js';

export interface ForgetOutcome {
  plan: ForgetPlan;
  /** Set when the data only the removed snapshots used was pruned too. */
  pruned?: PruneReport;
}

/**
 * Removes the snapshots `policy` does not keep (with `dryRun`, only plans it) and, with
 * `prune`, the data no remaining snapshot uses. The caller holds the exclusive lock.
 */
export async function forgetSnapshots(
  repo: Repository,
  policy: KeepPolicy,
  options: { prune?: boolean; dryRun?: boolean; onDamagedFile?: (problem: FileProblem) => void },
): Promise<ForgetOutcome> {
  // A damaged snapshot is neither kept nor removed by the policy: it stays until `repair snapshots`.
  const unreadable: FileProblem[] = [];
  const plan = planForget(
    await readableSnapshots(repo, (p) => {
      unreadable.push(p);
      options.onDamagedFile?.(p);
    }),
    policy,
  );
  if (options.dryRun) return { plan };
  for (const snap of plan.remove) await repo.store.delete(SNAPSHOTS_DIR + snap.id);
  if (!options.prune) return { plan };
  // Prune deletes what no snapshot uses: with a snapshot it cannot read, it cannot know.
  if (unreadable.length > 0) {
    throw new DriveseedError('CORRUPT', `prune refused: ${unreadable[0].file} cannot be read (${unreadable[0].message})`, {
      hint: 'run `driveseed repair snapshots` first; snapshots were forgotten, no data was deleted',
    });
  }
  const damaged = await repo.loadIndex();
  if (damaged.length > 0) {
    throw new DriveseedError('CORRUPT', `prune refused: ${damaged[0].file} is damaged (${damaged[0].message})`, {
      hint: 'run `driveseed repair index` first; snapshots were forgotten, no data was deleted',
    });
  }
  return { plan, pruned: await prune(repo) };
}
