import { DriveseedError } from '../errors.js';
import { planForget, type ForgetPlan, type KeepPolicy, type PlanOptions } from './forget-policy.js';
import { SNAPSHOTS_DIR } from './layout.js';
import { prune, type PruneReport } from './prune.js';
import type { Repository } from './repository.js';
import type { FileProblem } from './index-loader.js';
import { readableSnapshots } from './snapshot-reader.js';

export interface ForgetOutcome {
  plan: ForgetPlan;
  /** Snapshot files that could not be read: neither kept nor removed. */
  unreadable: FileProblem[];
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
  options: {
    prune?: boolean;
    dryRun?: boolean;
    onDamagedFile?: (problem: FileProblem) => void;
    groupBy?: PlanOptions['groupBy'];
    /** Snapshots kept whatever the policy says (the agent's newest, a seed's that has not landed). */
    pinned?: ReadonlySet<string>;
  },
): Promise<ForgetOutcome> {
  // A damaged snapshot is neither kept nor removed by the policy: it stays until `repair snapshots`.
  const unreadable: FileProblem[] = [];
  const plan = planForget(
    await readableSnapshots(repo, (p) => {
      unreadable.push(p);
      options.onDamagedFile?.(p);
    }),
    policy,
    { groupBy: options.groupBy },
  );
  pin(plan, options.pinned);
  if (options.dryRun) return { plan, unreadable };
  for (const snap of plan.remove) await repo.store.delete(SNAPSHOTS_DIR + snap.id);
  if (!options.prune) return { plan, unreadable };
  return { plan, unreadable, pruned: await pruneIfSound(repo, unreadable) };
}

/** Prunes after a forget, unless a damaged snapshot or index file makes "what no snapshot uses" unknowable. */
export async function pruneIfSound(repo: Repository, unreadable: readonly FileProblem[]): Promise<PruneReport> {
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
  return prune(repo);
}

function pin(plan: ForgetPlan, pinned: ReadonlySet<string> | undefined): void {
  if (!pinned || pinned.size === 0) return;
  for (const snap of plan.remove.filter((s) => pinned.has(s.id))) {
    plan.keep.push(snap);
    plan.reasons.set(snap.id, ['pinned']);
  }
  plan.remove = plan.remove.filter((s) => !pinned.has(s.id));
}
