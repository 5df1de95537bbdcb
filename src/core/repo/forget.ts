import { DriveseedError } from '../errors.js';
import { planForget, type ForgetPlan, type KeepPolicy } from './forget-policy.js';
import { SNAPSHOTS_DIR } from './layout.js';
import { prune, type PruneReport } from './prune.js';
import type { Repository } from './repository.js';

export interface ForgetOutcome {
  plan: ForgetPlan;
  /** Set when the data only the removed snapshots used was pruned too. */
  pruned?: PruneReport;
}

/**
 * Removes the snapshots `policy` does not keep (with `dryRun`, only plans it) and, with
 * `prune`, the data no remaining snapshot uses. The caller holds the exclusive lock.
 */
export async function forgetSnapshots(repo: Repository, policy: KeepPolicy, options: { prune?: boolean; dryRun?: boolean }): Promise<ForgetOutcome> {
  const plan = planForget(await repo.listSnapshots(), policy);
  if (options.dryRun) return { plan };
  for (const snap of plan.remove) await repo.store.delete(SNAPSHOTS_DIR + snap.id);
  if (!options.prune) return { plan };
  const damaged = await repo.loadIndex();
  if (damaged.length > 0) {
    throw new DriveseedError('CORRUPT', `prune refused: ${damaged[0].file} is damaged (${damaged[0].message})`, {
      hint: 'run `driveseed check --read-data` first; snapshots were forgotten, no data was deleted',
    });
  }
  return { plan, pruned: await prune(repo) };
}
