import type { Command } from 'commander';
import { parseKeepDuration, type KeepPolicy } from '../core/repo/forget-policy.js';
import { wholeNumber } from './common.js';

/** The keep flags `forget` and `agent protect` share, parsed to the engine's policy. */
export interface KeepFlags {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
  keepTag?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Checked while the flags are parsed, so bad input stops before anything is opened. */
function duration(value: string): string {
  parseKeepDuration(value);
  return value.trim();
}

/** `offWord` (for a stored policy): 0 turns a counting rule off, and this word turns --keep-within off. */
export function addKeepOptions(command: Command, offWord?: string): Command {
  const off = offWord ? ' (0 turns the rule off)' : '';
  return command
    .option('--keep-last <n>', `keep the N newest snapshots${off}`, wholeNumber)
    .option('--keep-hourly <n>', `keep the newest snapshot of each of the last N hours${off}`, wholeNumber)
    .option('--keep-daily <n>', `keep the newest snapshot of each of the last N days${off}`, wholeNumber)
    .option('--keep-weekly <n>', `keep the newest snapshot of each of the last N weeks${off}`, wholeNumber)
    .option('--keep-monthly <n>', `keep the newest snapshot of each of the last N months${off}`, wholeNumber)
    .option('--keep-yearly <n>', `keep the newest snapshot of each of the last N years${off}`, wholeNumber)
    .option(
      '--keep-within <duration>',
      `keep every snapshot younger than DURATION (e.g. 7d, 36h, 1y6m) before the newest${offWord ? `; "${offWord}" turns it off` : ''}`,
      offWord ? (v: string) => (v === offWord ? v : duration(v)) : duration,
    )
    .option('--keep-tag <tags>', 'keep every snapshot with these tags (a,b: both); repeat for either', collect);
}

/** The rules given on the command line; a flag not given is absent. */
export function keepPolicyOf(flags: KeepFlags): KeepPolicy {
  const policy: KeepPolicy = {
    last: flags.keepLast,
    hourly: flags.keepHourly,
    daily: flags.keepDaily,
    weekly: flags.keepWeekly,
    monthly: flags.keepMonthly,
    yearly: flags.keepYearly,
    within: flags.keepWithin,
    tags: flags.keepTag,
  };
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) as KeepPolicy;
}
