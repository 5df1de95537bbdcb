import { planForget, type KeepPolicy } from './forget-policy.js';
import type { StoredSnapshot } from './snapshot.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** Backups a forecast looks ahead (11 years of daily ones): a point kept longer (by a tag, say) shows no date. */
const MAX_STEPS = 4000;
/** Points the simulated series may hold: rules that keep more (--keep-last 100000) reach past any useful forecast, and each step costs a plan over them. */
const MAX_SERIES = 400;

export interface ForecastPoint {
  id: string;
  time: string;
  tags?: string[];
}

/**
 * When each point would be forgotten if backups go on as they have: one a day at the newest
 * point's time of day (one an hour when the policy has an hourly rule), retention applied
 * after each. Rules such as --keep-last depend on backups that have not happened, so this is
 * a forecast, not a promise; a point missing from the answer is kept past the horizon. The
 * days are the agent's (`timeZone`, as it reported it with its policy), else the process's.
 */
export function forecastExpiry(points: readonly ForecastPoint[], policy: KeepPolicy, timeZone?: string): Map<string, string> {
  const expiry = new Map<string, string>();
  if (points.length === 0) return expiry;
  const step = policy.hourly ? HOUR_MS : DAY_MS;
  let series = points.map(asSnapshot);
  // Today's plan first: a point the rules already drop (retention has not run since) goes at the next backup.
  const newest = Math.max(...points.map((p) => Date.parse(p.time)));
  for (let n = 0; n <= MAX_STEPS && series.some((s) => !s.id.startsWith('future:')); n++) {
    const at = newest + n * step;
    if (n > 0) series = [...series, asSnapshot({ id: `future:${n}`, time: new Date(at).toISOString(), tags: ['agent'] })];
    const plan = planForget(series, policy, { groupBy: 'all', ...(timeZone ? { timeZone } : {}) });
    for (const gone of plan.remove) if (!gone.id.startsWith('future:')) expiry.set(gone.id, new Date(at + (n === 0 ? step : 0)).toISOString());
    series = plan.keep;
    if (series.length > MAX_SERIES) break;
  }
  return expiry;
}

function asSnapshot(p: ForecastPoint): StoredSnapshot {
  return { id: p.id, time: p.time, tags: p.tags ?? ['agent'], paths: [], hostname: '', username: '', excludes: [], tree: '', version: 1 };
}
