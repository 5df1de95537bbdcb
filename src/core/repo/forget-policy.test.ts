import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeepDuration, planForget, policyIsEmpty } from './forget-policy.js';
import type { StoredSnapshot } from './snapshot.js';

// Periods are local time: these cases are written in UTC, and one below moves the zone.
process.env.TZ = 'UTC';

function snap(id: string, time: string, paths = ['/data'], tags: string[] = []): StoredSnapshot {
  return { id, time, paths, hostname: 'h', username: 'u', tags, excludes: [], tree: 't', version: 1 };
}

const ids = (list: StoredSnapshot[]) => list.map((s) => s.id);

// Two snapshots a day for 40 days, newest first in ids: s0 is the oldest.
const series = Array.from({ length: 80 }, (_, i) => snap(`s${i}`, new Date(Date.UTC(2026, 0, 1) + i * 12 * 3600_000).toISOString()));

describe('forget policy', () => {
  it('keep-last keeps the newest N', () => {
    const plan = planForget(series, { last: 3 });
    assert.deepEqual(
      plan.keep.map((s) => s.id),
      ['s79', 's78', 's77'],
    );
    assert.equal(plan.remove.length, 77);
  });

  it('keep-daily keeps the newest of each of the last N days', () => {
    assert.deepEqual(
      planForget(series, { daily: 3 }).keep.map((s) => s.id),
      ['s79', 's77', 's75'],
    );
  });

  it('rules add up and keep-monthly counts calendar months', () => {
    const plan = planForget(series, { last: 1, monthly: 2 });
    // January's newest is 2026-01-31 12:00 (s61); February's is the newest overall (s79).
    assert.deepEqual(
      plan.keep.map((s) => s.id),
      ['s79', 's61'],
    );
  });

  it('applies the policy per host and paths', () => {
    const plan = planForget([...series.slice(0, 3), snap('other', '2026-01-01T00:00:00Z', ['/other'])], { last: 1 });
    assert.deepEqual(plan.keep.map((s) => s.id).sort(), ['other', 's2']);
  });

  it('keep-weekly uses ISO weeks', () => {
    const plan = planForget(series, { weekly: 2 });
    assert.equal(plan.keep.length, 2);
    assert.equal(plan.keep[0].id, 's79');
  });

  it('keep-hourly keeps the newest of each of the last N hours', () => {
    // Every 20 minutes from 10:00: h0..h8 cover 10:00, 11:00 and 12:00.
    const hours = Array.from({ length: 9 }, (_, i) => snap(`h${i}`, new Date(Date.UTC(2026, 2, 1, 10, i * 20)).toISOString()));
    assert.deepEqual(ids(planForget(hours, { hourly: 2 }).keep), ['h8', 'h5']);
  });

  it('keep-yearly keeps the newest of each of the last N years', () => {
    const years = [snap('a', '2024-06-01T00:00:00Z'), snap('b', '2024-12-31T23:00:00Z'), snap('c', '2025-03-01T00:00:00Z'), snap('d', '2026-01-01T00:00:00Z')];
    assert.deepEqual(ids(planForget(years, { yearly: 2 }).keep), ['d', 'c']);
    assert.deepEqual(ids(planForget(years, { yearly: 5 }).keep), ['d', 'c', 'b']);
  });

  it('keep-within keeps what is younger than the duration before the newest snapshot, not before now', () => {
    // The newest is 2026-02-09 12:00: 3 days back is 2026-02-06 12:00, itself not kept (restic: strictly after).
    const plan = planForget(series, { within: '3d' });
    assert.equal(plan.keep[0].id, 's79');
    assert.equal(plan.keep.at(-1)!.time, '2026-02-07T00:00:00.000Z');
    assert.equal(plan.keep.length, 6);
    // Months count on the calendar: 1m back from 2026-02-09 12:00 is 2026-01-09 12:00.
    assert.equal(planForget(series, { within: '1m' }).keep.at(-1)!.time, '2026-01-10T00:00:00.000Z');
    assert.equal(planForget(series, { within: '1d12h' }).keep.length, 3);
    assert.deepEqual(planForget(series, { within: '1y' }).remove, []);
  });

  it('keep-tag keeps snapshots with all the tags of one entry, and counts nothing', () => {
    const tagged = [
      snap('n', '2026-01-05T00:00:00Z', ['/data'], ['nightly']),
      snap('m', '2026-01-04T00:00:00Z', ['/data'], ['monthly', 'audit']),
      snap('a', '2026-01-03T00:00:00Z', ['/data'], ['audit']),
      snap('x', '2026-01-02T00:00:00Z'),
    ];
    assert.deepEqual(ids(planForget(tagged, { tags: ['monthly,audit'] }).keep), ['m']);
    assert.deepEqual(ids(planForget(tagged, { tags: ['nightly', 'audit'] }).keep), ['n', 'm', 'a']);
    // A tag keeps beside the counting rules without using up their count.
    const plan = planForget(tagged, { tags: ['audit'], last: 1 });
    assert.deepEqual(ids(plan.keep), ['n', 'm', 'a']);
    assert.deepEqual(plan.reasons.get('m'), ['tag']);
  });

  it('a snapshot kept by several rules is kept once and says why', () => {
    const plan = planForget(series, { last: 1, daily: 2, monthly: 1, yearly: 1 });
    assert.deepEqual(ids(plan.keep), ['s79', 's77']);
    assert.deepEqual(plan.reasons.get('s79'), ['last', 'daily', 'monthly', 'yearly']);
    assert.equal(plan.keep.length + plan.remove.length, series.length);
  });

  it('buckets by local time: two UTC days can be one day where the server is', () => {
    // 23:30Z and 01:00Z the next day: 08:30 and 10:00 on 3 March in Tokyo, 18:30 and 20:00 on 2 March in New York.
    const pair = [snap('later', '2026-03-03T01:00:00Z'), snap('earlier', '2026-03-02T23:30:00Z')];
    try {
      assert.deepEqual(ids(planForget(pair, { daily: 5 }).keep), ['later', 'earlier'], 'two days in UTC');
      process.env.TZ = 'Asia/Tokyo';
      assert.deepEqual(ids(planForget(pair, { daily: 5 }).keep), ['later'], 'one day in Tokyo');
      process.env.TZ = 'America/New_York';
      assert.deepEqual(ids(planForget(pair, { daily: 5 }).keep), ['later'], 'one day in New York');
    } finally {
      process.env.TZ = 'UTC';
    }
  });

  it('groups everything as one series with groupBy all', () => {
    const mixed = [snap('old', '2026-01-01T00:00:00Z', ['/old']), snap('new', '2026-01-02T00:00:00Z', ['/new'])];
    assert.deepEqual(ids(planForget(mixed, { last: 1 }, { groupBy: 'all' }).keep), ['new']);
  });

  it('durations: restic units, bad ones refused in one line', () => {
    assert.deepEqual(parseKeepDuration('1y2m3d4h'), { years: 1, months: 2, days: 3, hours: 4 });
    assert.deepEqual(parseKeepDuration('36h'), { years: 0, months: 0, days: 0, hours: 36 });
    for (const bad of ['3x', '', '7', 'd', '-1d', '1.5d', '0d'])
      assert.throws(
        () => parseKeepDuration(bad),
        (e: Error) => !e.message.includes('\n'),
        bad,
      );
    assert.equal(policyIsEmpty({}), true);
    assert.equal(policyIsEmpty({ last: 0, tags: [] }), true);
    assert.equal(policyIsEmpty({ within: '1d' }), false);
    assert.equal(policyIsEmpty({ tags: ['x'] }), false);
  });
});

describe('retention forecast', () => {
  it('dates each point by the backup after which the rules drop it, with one backup a day', async () => {
    const { forecastExpiry } = await import('./retention-forecast.js');
    // Daily backups 1..10 March 2026 at 02:00 UTC; keep-daily 3 and keep-monthly 2.
    const points = Array.from({ length: 10 }, (_, i) => ({ id: `d${i + 1}`, time: new Date(Date.UTC(2026, 2, i + 1, 2)).toISOString() }));
    const expiry = forecastExpiry(points, { daily: 3, monthly: 2 });
    // Already dropped by the rules (retention has not run since): they go at the next backup.
    assert.equal(expiry.get('d1'), '2026-03-11T02:00:00.000Z');
    assert.equal(expiry.get('d7'), '2026-03-11T02:00:00.000Z');
    // The newest fall out of the daily three one a day (each new March day is March's newest too).
    assert.equal(expiry.get('d8'), '2026-03-11T02:00:00.000Z');
    assert.equal(expiry.get('d9'), '2026-03-12T02:00:00.000Z');
    assert.equal(expiry.get('d10'), '2026-03-13T02:00:00.000Z');
    // February's last point is its month's: it goes when April's first backup makes two newer months.
    const withFebruary = forecastExpiry([{ id: 'feb', time: '2026-02-27T02:00:00Z' }, ...points], { daily: 3, monthly: 2 });
    assert.equal(withFebruary.get('feb'), '2026-04-01T02:00:00.000Z');
    // A tag keeps a point past any horizon: no date.
    const tagged = forecastExpiry([{ id: 'x', time: '2026-03-01T02:00:00Z', tags: ['legal'] }], { tags: ['legal'], last: 1 });
    assert.equal(tagged.has('x'), false);
  });
});
