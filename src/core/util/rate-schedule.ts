import { DriveseedError } from '../errors.js';
import { parseRate } from './units.js';

/*
 * A bandwidth schedule, as MARS throttles work hours and the rest apart:
 *
 *   SCHEDULE = RATE | RULE ("," RULE)*
 *   RULE     = [DAYS] [HH:MM-HH:MM] "=" (RATE | "off")     days and hours in either order
 *   DAYS     = "*" | DAY | DAY "-" DAY                      Mon Tue Wed Thu Fri Sat Sun
 *
 * e.g. 'Mon-Fri 08:00-18:00=2M, *=20M'. The first rule that matches the local time wins; no
 * rule matching means no limit ("off" says so explicitly). A time range that ends before it
 * starts (22:00-06:00) runs past midnight and belongs to the day it starts on. A rule
 * without days is every day; without hours, the whole day.
 */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface RateRule {
  /** Days of the week it applies to (0 = Sunday, as Date.getDay). */
  days: ReadonlySet<number>;
  /** Minutes after midnight: the rule applies from `from` (inclusive) to `to` (exclusive); `to` ≤ `from` runs past midnight. */
  from: number;
  to: number;
  /** Bytes per second; undefined: no limit. */
  rate: number | undefined;
}

export class RateSchedule {
  private constructor(
    readonly rules: readonly RateRule[],
    /** The text it was made from, normalised: what a policy keeps and prints. */
    readonly text: string,
  ) {}

  /** A schedule of one rate at all times. */
  static constant(bytesPerSecond: number): RateSchedule {
    return new RateSchedule([{ days: new Set(DAYS.keys()), from: 0, to: 24 * 60, rate: bytesPerSecond }], String(bytesPerSecond));
  }

  static parse(text: string): RateSchedule {
    // A rate alone has neither rules nor days nor hours: 'Mon-Fri 08:00-18:00' is a rule that lacks its rate.
    if (!text.includes('=') && !/[:,\s*]|^(mon|tue|wed|thu|fri|sat|sun)/i.test(text.trim())) return RateSchedule.constant(parseRate(text));
    const rules = text.split(',').map((part) => parseRule(part.trim(), text));
    return new RateSchedule(
      rules,
      text
        .split(',')
        .map((p) => p.trim().replace(/\s+/g, ' '))
        .join(', '),
    );
  }

  /** Whether it is one rate at all times (a policy keeps that as a plain number). */
  get constantRate(): number | undefined {
    const [only] = this.rules;
    return this.rules.length === 1 && only.days.size === 7 && only.from === 0 && only.to === 24 * 60 ? only.rate : undefined;
  }

  /** The limit at local time `at`, in bytes per second; undefined: none. */
  rateAt(at: Date): number | undefined {
    const minute = at.getHours() * 60 + at.getMinutes();
    const today = at.getDay();
    const yesterday = (today + 6) % 7;
    for (const rule of this.rules) {
      const wraps = rule.to <= rule.from;
      const matches = wraps
        ? (rule.days.has(today) && minute >= rule.from) || (rule.days.has(yesterday) && minute < rule.to)
        : rule.days.has(today) && minute >= rule.from && minute < rule.to;
      if (matches) return rule.rate;
    }
    return undefined;
  }
}

function parseRule(rule: string, whole: string): RateRule {
  const fail = (why: string): never => {
    throw new DriveseedError('USAGE', `not a bandwidth schedule: "${whole}" (${why})`, {
      hint: "write a rate (2M) or rules like 'Mon-Fri 08:00-18:00=2M, *=20M'; the first rule matching the local time wins",
    });
  };
  const eq = rule.lastIndexOf('=');
  if (eq < 0) return fail(`"${rule}" has no =RATE`);
  const rateText = rule.slice(eq + 1).trim();
  let rate: number | undefined;
  if (!/^(off|none|unlimited)$/i.test(rateText)) {
    try {
      rate = parseRate(rateText);
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  let days: Set<number> | undefined;
  let hours: [number, number] | undefined;
  for (const word of rule.slice(0, eq).trim().split(/\s+/).filter(Boolean)) {
    if (/^\d/.test(word)) {
      if (hours) fail(`"${rule}" has two time ranges`);
      hours = parseHours(word) ?? fail(`"${word}" is not a time range like 08:00-18:00`);
    } else {
      if (days) fail(`"${rule}" has two day ranges`);
      days = parseDays(word) ?? fail(`"${word}" is not a day or a range of days like Mon-Fri`);
    }
  }
  return { days: days ?? new Set(DAYS.keys()), from: hours?.[0] ?? 0, to: hours?.[1] ?? 24 * 60, rate };
}

function parseDays(word: string): Set<number> | undefined {
  if (word === '*') return new Set(DAYS.keys());
  const [first, last, ...rest] = word.toLowerCase().split('-');
  const a = DAYS.indexOf(first.slice(0, 3));
  const b = last === undefined ? a : DAYS.indexOf(last.slice(0, 3));
  if (rest.length > 0 || a < 0 || b < 0 || first.length < 3 || (last !== undefined && last.length < 3)) return undefined;
  const days = new Set<number>();
  for (let d = a; ; d = (d + 1) % 7) {
    days.add(d);
    if (d === b) break;
  }
  return days;
}

function parseHours(word: string): [number, number] | undefined {
  const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(word);
  if (!m) return undefined;
  const [h1, m1, h2, m2] = m.slice(1).map(Number);
  if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 === 24 && m2 > 0)) return undefined;
  const from = h1 * 60 + m1;
  const to = h2 * 60 + m2;
  return from === to ? undefined : [from, to];
}
