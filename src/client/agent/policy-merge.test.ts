import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../../core/errors.js';
import type { Policy } from './agent-config.js';
import { changedFields, mergePolicy } from './policy-merge.js';

const offline = { staging: '/mnt/staging', jobName: 'seed-one', storageAccount: 'acct1', container: 'seeds' };
const full: Policy = { paths: ['/srv/data'], excludes: ['*.tmp'], schedule: '0 2 * * *', limitUpload: 2_000_000, offline: { ...offline, healLimit: 5000 } };

describe('protection policies merge', () => {
  it('a schedule alone changes the schedule and keeps offline seeding, the upload limit, paths and excludes', () => {
    const merged = mergePolicy(full, { schedule: '0 3 * * *' });
    assert.deepEqual(merged, { ...full, schedule: '0 3 * * *' });
    assert.deepEqual(changedFields(full, merged), ['schedule']);
  });

  it('paths alone replace the paths; excludes alone replace the excludes', () => {
    assert.deepEqual(mergePolicy(full, { paths: ['/etc'] }), { ...full, paths: ['/etc'] });
    assert.deepEqual(mergePolicy(full, { excludes: ['*.log'] }), { ...full, excludes: ['*.log'] });
    assert.deepEqual(mergePolicy(full, { excludes: [] }).excludes, []);
  });

  it('hooks merge like the schedule: one given changes it alone, null removes it', () => {
    const hooked = mergePolicy(full, { preHook: 'sync', postHook: 'echo done' });
    assert.deepEqual(hooked, { ...full, preHook: 'sync', postHook: 'echo done' });
    assert.deepEqual(changedFields(full, hooked), ['pre hook', 'post hook']);
    assert.deepEqual(mergePolicy(hooked, { schedule: '0 3 * * *' }), { ...hooked, schedule: '0 3 * * *' });
    const noPre = mergePolicy(hooked, { preHook: null });
    assert.equal('preHook' in noPre, false);
    assert.equal(noPre.postHook, 'echo done');
    assert.deepEqual(changedFields(hooked, noPre), ['pre hook']);
  });

  it('an item is added or replaced by name, removed with null, and a policy of items alone needs no paths', () => {
    const one = mergePolicy(full, { item: { name: 'db', command: 'pg_dump db' } });
    assert.deepEqual(one, { ...full, items: [{ name: 'db', command: 'pg_dump db' }] });
    assert.deepEqual(changedFields(full, one), ['items']);
    const two = mergePolicy(one, { item: { name: 'ldap', command: 'slapcat' } });
    assert.deepEqual(mergePolicy(two, { item: { name: 'db', command: 'pg_dump -Fp db' } }).items, [
      { name: 'ldap', command: 'slapcat' },
      { name: 'db', command: 'pg_dump -Fp db' },
    ]);
    assert.equal('items' in mergePolicy(one, { item: { name: 'db', command: null } }), false);
    assert.throws(() => mergePolicy(one, { item: { name: 'nope', command: null } }), /no item nope/);
    assert.deepEqual(mergePolicy(undefined, { item: { name: 'db', command: 'x' } }), { paths: [], excludes: [], items: [{ name: 'db', command: 'x' }] });
  });

  it('--one-file-system and --exclude-caches merge alone: given, they set or clear that flag; not given, they keep it', () => {
    const both = mergePolicy(full, { oneFileSystem: true, excludeCaches: true });
    assert.deepEqual(both, { ...full, oneFileSystem: true, excludeCaches: true });
    assert.deepEqual(changedFields(full, both), ['one file system', 'exclude caches']);
    assert.deepEqual(mergePolicy(both, { schedule: '0 3 * * *', excludes: [] }), { ...both, schedule: '0 3 * * *', excludes: [] });
    const off = mergePolicy(both, { oneFileSystem: false });
    assert.equal('oneFileSystem' in off, false, 'off is stored as absent, as in a policy that never had it');
    assert.equal(off.excludeCaches, true);
    assert.deepEqual(changedFields(both, off), ['one file system']);
  });

  it('null clears the schedule and the upload limit, and nothing else', () => {
    const merged = mergePolicy(full, { schedule: null, limitUpload: null });
    assert.equal('schedule' in merged, false);
    assert.equal('limitUpload' in merged, false);
    assert.deepEqual(merged.offline, full.offline);
    assert.deepEqual(changedFields(full, merged), ['schedule', 'upload limit']);
  });

  it('offline flags not given keep their values; another job is another seed, the same job keeps seeded and its heal limit', () => {
    const other = mergePolicy(full, { offline: { jobName: 'seed-two' } });
    assert.deepEqual(other.offline, { ...offline, jobName: 'seed-two' });
    const seeded = { ...full, offline: { ...full.offline!, seeded: true } };
    assert.deepEqual(mergePolicy(seeded, { offline: { staging: '/mnt/other' } }).offline, { ...seeded.offline, staging: '/mnt/other' });
    assert.deepEqual(mergePolicy(full, { healLimit: 9000 }).offline, { ...full.offline, healLimit: 9000 });
  });

  it('offline: null turns it off; a heal limit then, or a first --offline without its flags, is refused', () => {
    assert.equal(mergePolicy(full, { offline: null }).offline, undefined);
    assert.throws(
      () => mergePolicy(full, { offline: null, healLimit: 1 }),
      (e) => isDriveseedError(e, 'USAGE'),
    );
    assert.throws(
      () => mergePolicy({ paths: ['/a'], excludes: [] }, { offline: { jobName: 'x1' } }),
      (e) => isDriveseedError(e, 'USAGE') && /--offline needs --staging, --storage-account, --container/.test(e.message),
    );
    assert.throws(
      () => mergePolicy({ paths: ['/a'], excludes: [] }, { healLimit: 1 }),
      (e) => isDriveseedError(e, 'USAGE'),
    );
  });

  it('a first policy needs paths; later ones keep theirs', () => {
    assert.throws(
      () => mergePolicy(undefined, { schedule: '0 2 * * *' }),
      (e) => isDriveseedError(e, 'USAGE') && /nothing to protect/.test(e.message),
    );
    assert.deepEqual(mergePolicy(undefined, { paths: ['/a'] }), { paths: ['/a'], excludes: [] });
    assert.deepEqual(mergePolicy(full, {}), full);
    assert.deepEqual(changedFields(full, mergePolicy(full, {})), []);
  });

  it('keep rules merge one by one: a rule given replaces that rule, 0 or null turns it off, null retention keeps everything', () => {
    const kept = mergePolicy(full, { retention: { daily: 7, weekly: 4, monthly: 12, yearly: 3 } });
    assert.deepEqual(kept, { ...full, retention: { daily: 7, weekly: 4, monthly: 12, yearly: 3 } });
    assert.deepEqual(changedFields(full, kept), ['retention']);
    // Another flag later adds to the rules and leaves the rest of the policy as it was.
    const more = mergePolicy(kept, { retention: { daily: 14, hourly: 24, within: '3d', tags: ['audit'] } });
    assert.deepEqual(more.retention, { daily: 14, weekly: 4, monthly: 12, yearly: 3, hourly: 24, within: '3d', tags: ['audit'] });
    assert.deepEqual(more.offline, full.offline);
    assert.deepEqual(mergePolicy(more, { schedule: '0 5 * * *' }).retention, more.retention, 'a schedule alone keeps the retention');
    const fewer = mergePolicy(more, { retention: { hourly: 0, within: null, tags: [] } });
    assert.deepEqual(fewer.retention, { daily: 14, weekly: 4, monthly: 12, yearly: 3 });
    // Every rule off is no retention at all, not a policy that keeps nothing.
    assert.equal('retention' in mergePolicy(fewer, { retention: { daily: 0, weekly: 0, monthly: 0, yearly: 0 } }), false);
    assert.equal('retention' in mergePolicy(more, { retention: null }), false);
    assert.deepEqual(changedFields(more, mergePolicy(more, { retention: { daily: 14 } })), []);
  });
});
