import type { CommandItem } from '../../core/backup/command-items.js';
import { DriveseedError } from '../../core/errors.js';
import { COUNTING_RULES, policyIsEmpty, type KeepPolicy } from '../../core/repo/forget-policy.js';
import type { OfflinePolicy, Policy } from './agent-config.js';

/**
 * What one `agent protect` asks to change. A field left undefined keeps what the policy has:
 * re-running protect to add a schedule must never drop offline seeding or the upload limit
 * (it once did, and the next backup sent the whole data set over a thin link). `null` clears.
 */
export interface PolicyChange {
  paths?: string[];
  excludes?: string[];
  /** true or false sets it; undefined keeps it. */
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  schedule?: string | null;
  limitUpload?: number | string | null;
  /** Offline seeding fields to set; missing ones come from the current offline policy. `null`: back to online. */
  offline?: Partial<Omit<OfflinePolicy, 'seeded'>> | null;
  /** The seed's heal limit alone, on an offline policy as it is. */
  healLimit?: number;
  preHook?: string | null;
  postHook?: string | null;
  /** One command item to add or replace (`command`), or to remove (`null`). */
  item?: { name: string; command: string | null };
  /** Keep rules to change, each alone: a count of 0 or a `within` of null turns that rule off, tags replace the list. `null`: keep every point. */
  retention?: RetentionChange | null;
}

export type RetentionChange = Omit<KeepPolicy, 'within'> & { within?: string | null };

const OFFLINE_FIELDS = ['staging', 'jobName', 'storageAccount', 'container'] as const;
const FLAG_OF: Record<(typeof OFFLINE_FIELDS)[number], string> = {
  staging: '--staging',
  jobName: '--job',
  storageAccount: '--storage-account',
  container: '--container',
};

/** The policy after `change`: everything it does not name stays as it was. */
export function mergePolicy(previous: Policy | undefined, change: PolicyChange): Policy {
  const paths = change.paths ?? previous?.paths ?? [];
  const items = mergeItems(previous?.items, change.item);
  if (paths.length === 0 && items.length === 0)
    throw new DriveseedError('USAGE', 'nothing to protect yet', { hint: 'give the paths: `driveseed agent protect PATH…`' });
  const schedule = change.schedule === undefined ? previous?.schedule : (change.schedule ?? undefined);
  const limitUpload = change.limitUpload === undefined ? previous?.limitUpload : (change.limitUpload ?? undefined);
  const offline = mergeOffline(previous?.offline, change);
  const preHook = change.preHook === undefined ? previous?.preHook : (change.preHook ?? undefined);
  const postHook = change.postHook === undefined ? previous?.postHook : (change.postHook ?? undefined);
  const retention = change.retention === null ? undefined : mergeRetention(previous?.retention, change.retention ?? {});
  const oneFileSystem = change.oneFileSystem ?? previous?.oneFileSystem;
  const excludeCaches = change.excludeCaches ?? previous?.excludeCaches;
  return {
    paths,
    excludes: change.excludes ?? previous?.excludes ?? [],
    ...(oneFileSystem ? { oneFileSystem } : {}),
    ...(excludeCaches ? { excludeCaches } : {}),
    ...(schedule !== undefined ? { schedule } : {}),
    ...(limitUpload !== undefined ? { limitUpload } : {}),
    ...(offline ? { offline } : {}),
    // An offline delta on its way is not the policy's to change: protect keeps it.
    ...(previous?.delta ? { delta: previous.delta } : {}),
    ...(preHook !== undefined ? { preHook } : {}),
    ...(postHook !== undefined ? { postHook } : {}),
    ...(items.length > 0 ? { items } : {}),
    ...(retention ? { retention } : {}),
  };
}

/** The items after one is set or removed; the others keep their order. */
function mergeItems(previous: CommandItem[] = [], change: PolicyChange['item']): CommandItem[] {
  if (!change) return previous;
  const others = previous.filter((i) => i.name !== change.name);
  if (change.command === null) {
    if (others.length === previous.length) throw new DriveseedError('NOT_FOUND', `no item ${change.name} is protected`);
    return others;
  }
  return [...others, { name: change.name, command: change.command }];
}

/** Each rule given replaces that rule alone: `--keep-daily 7` on a policy with weekly and monthly keeps both. */
function mergeRetention(previous: KeepPolicy | undefined, change: RetentionChange): KeepPolicy | undefined {
  const merged: KeepPolicy = { ...previous };
  for (const rule of COUNTING_RULES) {
    const n = change[rule];
    if (n === undefined) continue;
    if (n === 0) delete merged[rule];
    else merged[rule] = n;
  }
  if (change.within === null) delete merged.within;
  else if (change.within !== undefined) merged.within = change.within;
  if (change.tags !== undefined) {
    if (change.tags.length === 0) delete merged.tags;
    else merged.tags = change.tags;
  }
  return policyIsEmpty(merged) ? undefined : merged;
}

function mergeOffline(previous: OfflinePolicy | undefined, change: PolicyChange): OfflinePolicy | undefined {
  if (change.offline === null) {
    if (change.healLimit !== undefined) throw new DriveseedError('USAGE', '--heal-limit is for offline seeding; it cannot go with --online');
    return undefined;
  }
  if (change.offline === undefined) {
    if (change.healLimit === undefined) return previous;
    if (!previous) throw new DriveseedError('USAGE', '--heal-limit is for offline seeding, and this policy has none', { hint: 'add --offline and its flags' });
    return { ...previous, healLimit: change.healLimit };
  }
  const given = change.offline;
  const merged: Partial<OfflinePolicy> = {};
  for (const field of OFFLINE_FIELDS) merged[field] = given[field] ?? previous?.[field];
  const missing = OFFLINE_FIELDS.filter((f) => !merged[f]);
  if (missing.length > 0) throw new DriveseedError('USAGE', `--offline needs ${missing.map((f) => FLAG_OF[f]).join(', ')}`);
  // The same import job is the same seed: what it reached (seeded) and its heal limit stay.
  const sameSeed = previous !== undefined && previous.jobName === merged.jobName;
  const healLimit = change.healLimit ?? given.healLimit ?? (sameSeed ? previous.healLimit : undefined);
  return {
    ...(merged as OfflinePolicy),
    ...(healLimit !== undefined ? { healLimit } : {}),
    ...(sameSeed && previous.seeded ? { seeded: true } : {}),
  };
}

/** The names of what differs between two policies, for a line that says what protect changed. */
export function changedFields(before: Policy | undefined, after: Policy): string[] {
  if (!before) return ['everything (new policy)'];
  const fields: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  if (differs(before.paths, after.paths)) fields.push('paths');
  if (differs(before.excludes, after.excludes)) fields.push('excludes');
  if (Boolean(before.oneFileSystem) !== Boolean(after.oneFileSystem)) fields.push('one file system');
  if (Boolean(before.excludeCaches) !== Boolean(after.excludeCaches)) fields.push('exclude caches');
  if (before.schedule !== after.schedule) fields.push('schedule');
  if (before.limitUpload !== after.limitUpload) fields.push('upload limit');
  if (differs(before.offline, after.offline)) fields.push('offline seeding');
  if (before.preHook !== after.preHook) fields.push('pre hook');
  if (before.postHook !== after.postHook) fields.push('post hook');
  if (differs(before.items ?? [], after.items ?? [])) fields.push('items');
  if (differs(before.retention, after.retention)) fields.push('retention');
  return fields;
}
