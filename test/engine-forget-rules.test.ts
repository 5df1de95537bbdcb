import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

describe('forget with the second round rules', () => {
  it('--keep-yearly, --keep-hourly, --keep-within and --keep-tag on real snapshots; bad input is refused in one line and removes nothing', async (t) => {
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    const data = join(dir, 'data');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const made: Record<string, string> = {};
    const at = (name: string, time: string, tags: string[] = []) => {
      const r = cli(['backup', '--repo', repo, data, '--json', ...tags.flatMap((tag) => ['--tag', tag])], { DRIVESEED_NOW: time, TZ: 'UTC' });
      assert.equal(r.code, 0, r.stderr);
      made[name] = json(r).snapshotId;
    };
    await mkdir(data);
    await writeFile(join(data, 'f'), 'x');
    at('2024', '2024-06-01T10:00:00Z', ['audit']);
    at('2025a', '2025-03-01T10:00:00Z');
    at('2025b', '2025-12-31T10:00:00Z');
    at('h1', '2026-01-10T08:10:00Z');
    at('h2', '2026-01-10T08:50:00Z');
    at('h3', '2026-01-10T09:30:00Z');

    const dry = (...flags: string[]) => json(cli(['forget', '--repo', repo, ...flags, '--dry-run', '--json'], { TZ: 'UTC' }));
    const kept = (...flags: string[]) => (dry(...flags).kept as string[]).map((id) => Object.keys(made).find((k) => made[k] === id)).sort();
    assert.deepEqual(kept('--keep-yearly', '2'), ['2025b', 'h3']);
    assert.deepEqual(kept('--keep-hourly', '2'), ['h2', 'h3'], 'the newest of 08:00 and of 09:00');
    assert.deepEqual(kept('--keep-within', '1h'), ['h2', 'h3'], 'an hour before the newest snapshot, not before now');
    assert.deepEqual(kept('--keep-tag', 'audit', '--keep-last', '1'), ['2024', 'h3']);
    assert.deepEqual(dry('--keep-tag', 'audit', '--keep-last', '1').reasons[made['2024']], ['tag']);

    for (const bad of [
      ['--keep-daily', '-1'],
      ['--keep-within', '3x'],
      ['--keep-within', '0h'],
      ['--keep-yearly', '1.5'],
    ]) {
      const r = cli(['forget', '--repo', repo, ...bad]);
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(json(cli(['snapshots', '--repo', repo, '--json'])).length, 6, 'nothing was removed');

    const real = json(cli(['forget', '--repo', repo, '--keep-yearly', '1', '--keep-tag', 'audit', '--prune', '--json'], { TZ: 'UTC' }));
    assert.equal(real.removed.length, 4);
    assert.equal(cli(['check', '--repo', repo, '--read-data']).code, 0);
  });
});
