import { DriveseedError } from '../errors.js';
import type { StoredSnapshot } from './snapshot.js';

/**
 * restic's keep rules. Each counting rule keeps the newest snapshot of each of its N most
 * recent periods (local time, as the user reads the clock); `within` keeps every snapshot
 * younger than the duration before the group's newest; `tags` keeps every snapshot that has
 * all the tags of one entry ("a,b" needs both). A snapshot kept by several rules is kept once.
 */
export interface KeepPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** A duration as the user wrote it ("30d", "1y6m"): it reads back the same in a stored policy. */
  within?: string;
  tags?: string[];
}

/** restic's duration for --keep-within: calendar years, months and days, then hours. */
export interface KeepDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export const COUNTING_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type CountingRule = (typeof COUNTING_RULES)[number];
/** 'pinned': kept by the caller whatever the rules say. */
export type KeepReason = CountingRule | 'within' | 'tag' | 'pinned';

export function policyIsEmpty(policy: KeepPolicy): boolean {
  return COUNTING_RULES.every((r) => !policy[r]) && !policy.within && !policy.tags?.length;
}

/** "1y6m", "7d", "36h", "2y3m4d5h" → a duration; anything else is refused in one line. */
export function parseKeepDuration(text: string): KeepDuration {
  const duration: KeepDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const field = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;
  const trimmed = text.trim();
  if (!/^(\d+[ymdh])+$/.test(trimmed))
    throw new DriveseedError('USAGE', `not a duration: "${text}"`, { hint: 'write it like 7d, 36h or 1y6m (y years, m months, d days, h hours)' });
  for (const [, n, unit] of trimmed.matchAll(/(\d+)([ymdh])/g)) duration[field[unit as keyof typeof field]] += Number(n);
  // A zero duration would keep nothing, not everything: refused rather than guessed.
  if (Object.values(duration).every((n) => n === 0))
    throw new DriveseedError('USAGE', `a --keep-within of "${text}" keeps nothing`, { hint: 'give a duration above zero, like 7d' });
  return duration;
}

/** The earliest time `within` still keeps, counted back from `latest` on the local calendar (of `timeZone`, when given). */
export function withinStart(latest: Date, d: KeepDuration, timeZone?: string): Date {
  if (timeZone) {
    // On the zone's wall clock, then back to an instant at that wall time's offset.
    const w = wallClockIn(timeZone)(latest);
    const wall = Date.UTC(w.year - d.years, w.month - 1 - d.months, w.day - d.days, w.hour - d.hours, w.minute, w.second, latest.getUTCMilliseconds());
    const offset = (at: number) => {
      const p = wallClockIn(timeZone)(new Date(at));
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, new Date(at).getUTCMilliseconds()) - at;
    };
    return new Date(wall - offset(wall - offset(wall)));
  }
  const start = new Date(latest);
  start.setFullYear(start.getFullYear() - d.years, start.getMonth() - d.months, start.getDate() - d.days);
  start.setHours(start.getHours() - d.hours);
  return start;
}

/** A time as a clock on the wall shows it: the process's local time, or another zone's. */
export interface WallClock {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * Each zone's readings, remembered: the expiry forecast plans thousands of times over the same
 * few hundred times, and Intl's formatting costs microseconds a call. Bounded, then started anew.
 */
const zoneReadings = new Map<string, { read: (d: Date) => WallClock; seen: Map<number, WallClock> }>();
const MAX_READINGS = 50_000;

/** The wall clock of the process (no zone) or of an IANA zone (a RangeError for a zone the platform does not know). */
export function wallClockIn(timeZone?: string): (date: Date) => WallClock {
  if (!timeZone)
    return (d) => ({ year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() });
  let zone = zoneReadings.get(timeZone);
  if (!zone) {
    zone = { read: zoneReader(timeZone), seen: new Map() };
    zoneReadings.set(timeZone, zone);
  }
  const { read, seen } = zone;
  return (d) => {
    const at = d.getTime();
    let reading = seen.get(at);
    if (!reading) {
      if (seen.size >= MAX_READINGS) seen.clear();
      reading = read(d);
      seen.set(at, reading);
    }
    return reading;
  };
}

function zoneReader(timeZone: string): (date: Date) => WallClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (d) => {
    const part = Object.fromEntries(format.formatToParts(d).map((p) => [p.type, p.value]));
    return {
      year: Number(part.year),
      month: Number(part.month),
      day: Number(part.day),
      hour: Number(part.hour),
      minute: Number(part.minute),
      second: Number(part.second),
    };
  };
}

type Bucket = (date: WallClock, position: number) => string;

/** Local-time periods: a snapshot at 00:30 on Monday belongs to Monday where the user lives. */
const buckets: Record<CountingRule, Bucket> = {
  last: (_d, position) => String(position),
  hourly: (d) => `${localDay(d)}T${pad(d.hour)}`,
  daily: (d) => localDay(d),
  weekly: (d) => isoWeek(d),
  monthly: (d) => localDay(d).slice(0, 7),
  yearly: (d) => String(d.year),
};

export interface ForgetPlan {
  keep: StoredSnapshot[];
  remove: StoredSnapshot[];
  /** Why each kept snapshot stays, by id (the rules that chose it). */
  reasons: Map<string, KeepReason[]>;
}

export interface PlanOptions {
  /**
   * 'host-paths' (restic's default) applies the policy within each group of snapshots that share
   * host and paths; 'all' treats every snapshot as one series (a server's recovery points, whatever
   * paths it protected over time).
   */
  groupBy?: 'host-paths' | 'all';
  /** The IANA zone whose days, weeks, months and years the rules count (default the process's local time). */
  timeZone?: string;
}

export function planForget(snapshots: readonly StoredSnapshot[], policy: KeepPolicy, options: PlanOptions = {}): ForgetPlan {
  const groups = new Map<string, StoredSnapshot[]>();
  for (const snap of snapshots) {
    const key = options.groupBy === 'all' ? '' : JSON.stringify([snap.hostname, [...snap.paths].sort()]);
    const group = groups.get(key);
    if (group) group.push(snap);
    else groups.set(key, [snap]);
  }
  const plan: ForgetPlan = { keep: [], remove: [], reasons: new Map() };
  for (const group of groups.values()) {
    const newestFirst = [...group].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.id < b.id ? 1 : -1));
    const reasons = keepReasons(newestFirst, policy, options.timeZone);
    for (const snap of newestFirst) {
      const why = reasons.get(snap);
      if (why) {
        plan.keep.push(snap);
        plan.reasons.set(snap.id, why);
      } else plan.remove.push(snap);
    }
  }
  return plan;
}

/** restic's ApplyPolicy on one group, newest first: every rule sees every snapshot; counts are per rule. */
function keepReasons(newestFirst: readonly StoredSnapshot[], policy: KeepPolicy, timeZone?: string): Map<StoredSnapshot, KeepReason[]> {
  const wallClock = wallClockIn(timeZone);
  const reasons = new Map<StoredSnapshot, KeepReason[]>();
  const keep = (snap: StoredSnapshot, why: KeepReason) => reasons.set(snap, [...(reasons.get(snap) ?? []), why]);
  const latest = newestFirst.length > 0 ? new Date(newestFirst[0].time) : undefined;
  const since = policy.within && latest ? withinStart(latest, parseKeepDuration(policy.within), timeZone).getTime() : undefined;
  const tagSets = (policy.tags ?? []).map((entry) => entry.split(',').filter((t) => t !== ''));
  const left = Object.fromEntries(COUNTING_RULES.map((r) => [r, policy[r] ?? 0])) as Record<CountingRule, number>;
  const lastBucket: Partial<Record<CountingRule, string>> = {};
  newestFirst.forEach((snap, position) => {
    const time = new Date(snap.time);
    if (tagSets.some((set) => set.length > 0 && set.every((t) => snap.tags.includes(t)))) keep(snap, 'tag');
    if (since !== undefined && time.getTime() > since) keep(snap, 'within');
    let clock: WallClock | undefined;
    for (const rule of COUNTING_RULES) {
      if (left[rule] <= 0) continue;
      const bucket = buckets[rule](clock ?? (clock = wallClock(time)), position);
      if (bucket === lastBucket[rule]) continue;
      lastBucket[rule] = bucket;
      left[rule]--;
      keep(snap, rule);
    }
  });
  return reasons;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function localDay(d: WallClock): string {
  return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
}

/** ISO 8601 week of the local date: weeks start on Monday, and week 1 holds the year's first Thursday. */
function isoWeek(date: WallClock): string {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}
