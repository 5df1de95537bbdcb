import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeepDuration, planForget, wallClockIn, withinStart } from './forget-policy.js';
import { forecastExpiry } from './retention-forecast.js';
import type { StoredSnapshot } from './snapshot.js';

// The process's own zone is UTC here: every case below that counts another zone's days says so.
process.env.TZ = 'UTC';

function snap(id: string, time: string): StoredSnapshot {
  return { id, time, paths: ['/data'], hostname: 'h', username: 'u', tags: [], excludes: [], tree: 't', version: 1 };
}

describe("keep rules in the agent's time zone", () => {
  it('counts days where the agent is: 23:30 and 00:30 UTC are one Tokyo morning', () => {
    const points = [snap('late', '2026-03-01T23:30:00Z'), snap('early', '2026-03-02T00:30:00Z')];
    assert.deepEqual(
      planForget(points, { daily: 2 })
        .keep.map((s) => s.id)
        .sort(),
      ['early', 'late'],
      'two days in UTC',
    );
    const tokyo = planForget(points, { daily: 2 }, { timeZone: 'Asia/Tokyo' });
    assert.deepEqual(
      tokyo.keep.map((s) => s.id),
      ['early'],
      'one day in Tokyo: its newest stays',
    );
    assert.deepEqual(
      tokyo.remove.map((s) => s.id),
      ['late'],
    );
  });

  it('reads the wall clock of a zone, across a change of summer time', () => {
    const amsterdam = wallClockIn('Europe/Amsterdam');
    assert.deepEqual(amsterdam(new Date('2026-03-29T00:30:00Z')), { year: 2026, month: 3, day: 29, hour: 1, minute: 30, second: 0 });
    assert.deepEqual(amsterdam(new Date('2026-03-29T01:30:00Z')), { year: 2026, month: 3, day: 29, hour: 3, minute: 30, second: 0 });
    // A day back from 14:00 summer time is 14:00 winter time the day before: 25 hours, not 24.
    const start = withinStart(new Date('2026-03-29T12:00:00Z'), parseKeepDuration('1d'), 'Europe/Amsterdam');
    assert.equal(start.toISOString(), '2026-03-28T13:00:00.000Z');
    assert.equal(withinStart(new Date('2026-03-29T12:00:00Z'), parseKeepDuration('1d')).toISOString(), '2026-03-28T12:00:00.000Z', 'UTC has no summer time');
  });

  it("forecasts expiry on the agent's days: two UTC days that are one Tokyo day", () => {
    // 1 March 20:00 and 2 March 02:00 UTC; in Tokyo 05:00 and 11:00 on 2 March.
    const points = [
      { id: 'p0', time: '2026-03-01T20:00:00Z' },
      { id: 'p1', time: '2026-03-02T02:00:00Z' },
    ];
    // In UTC p0 holds a day of its own: it goes when two newer days come, at the backup of 4 March.
    assert.equal(forecastExpiry(points, { daily: 3 }).get('p0'), '2026-03-04T02:00:00.000Z');
    // In Tokyo p1 is the newest of the same day already: p0 goes at the next backup.
    assert.equal(forecastExpiry(points, { daily: 3 }, 'Asia/Tokyo').get('p0'), '2026-03-03T02:00:00.000Z');
    assert.throws(() => wallClockIn('Not/AZone'), RangeError);
  });
});
