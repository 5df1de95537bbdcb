import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planForget } from './forget-policy.js';
import type { StoredSnapshot } from './snapshot.js';

function snap(id: string, time: string, paths = ['/data']): StoredSnapshot {
  return { id, time, paths, hostname: 'h', username: 'u', tags: [], excludes: [], tree: 't', version: 1 };
}

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
});
