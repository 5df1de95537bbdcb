import { DriveseedError } from '../errors.js';

/**
 * "Now" for what the engine and the agent date: snapshot times, and through them retention.
 * DRIVESEED_NOW (an ISO 8601 time) fixes it, so a test can simulate a year of daily backups
 * in minutes; it is read on every call, so one process can step through days. Nothing else
 * (locks, tokens, the service's clock) follows it: a lock dated in the past would look stale.
 */
export function now(): Date {
  const fixed = process.env.DRIVESEED_NOW;
  if (!fixed) return new Date();
  const time = Date.parse(fixed);
  if (Number.isNaN(time))
    throw new DriveseedError('USAGE', `DRIVESEED_NOW is not a time: "${fixed}"`, { hint: 'write it like 2026-01-31T02:00:00Z, or unset it' });
  return new Date(time);
}
