import type { StoredSnapshot } from './snapshot.js';

/** restic's keep rules: each rule keeps the newest snapshot of each of its N most recent periods. */
export interface KeepPolicy {
  last?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
}

export function policyIsEmpty(policy: KeepPolicy): boolean {
  return !policy.last && !policy.daily && !policy.weekly && !policy.monthly;
}

type Bucket = (date: Date) => string;

const buckets: Record<keyof KeepPolicy, Bucket> = {
  last: (d) => d.toISOString(),
  daily: (d) => d.toISOString().slice(0, 10),
  weekly: (d) => isoWeek(d),
  monthly: (d) => d.toISOString().slice(0, 7),
};

export interface ForgetPlan {
  keep: StoredSnapshot[];
  remove: StoredSnapshot[];
}

/** Applies the policy within each group of snapshots that share host and paths, as restic does. */
export function planForget(snapshots: readonly StoredSnapshot[], policy: KeepPolicy): ForgetPlan {
  const groups = new Map<string, StoredSnapshot[]>();
  for (const snap of snapshots) {
    const key = JSON.stringify([snap.hostname, [...snap.paths].sort()]);
    groups.set(key, [...(groups.get(key) ?? []), snap]);
  }
  const plan: ForgetPlan = { keep: [], remove: [] };
  for (const group of groups.values()) {
    const newestFirst = [...group].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    const kept = new Set<StoredSnapshot>();
    for (const rule of Object.keys(buckets) as (keyof KeepPolicy)[]) {
      let left = policy[rule] ?? 0;
      let lastBucket: string | undefined;
      for (const snap of newestFirst) {
        if (left <= 0) break;
        const bucket = buckets[rule](new Date(snap.time));
        if (bucket === lastBucket) continue;
        lastBucket = bucket;
        kept.add(snap);
        left--;
      }
    }
    for (const snap of newestFirst) (kept.has(snap) ? plan.keep : plan.remove).push(snap);
  }
  return plan;
}

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
