import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

describe('agent commands say what is wrong, at once', () => {
  it('an empty password file is refused and nothing is made', async (t) => {
    const dir = await tempDir(t);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    const repo = join(dir, 'repo');
    const r = cli(['init', '--repo', repo, '--password-file', empty], { DRIVESEED_PASSWORD: '' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `driveseed: password file ${empty} is empty (write the repository password into it)\n`);
    assert.deepEqual(await readdir(repo).catch(() => []), [], 'no repository with an empty password');
  });

  it('with the service down, restore, status and recovery-points fail within seconds, with the tries and a hint', async (t) => {
    const s = await setUpAgent(t);
    cli(['agent', 'protect', s.data], s.env);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    await s.kill();
    const started = Date.now();
    const restore = cli(['agent', 'restore', 'latest', '--target', join(s.dir, 'restore')], s.env);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(restore.code, 1);
    assert.ok(seconds < 15, `restore gave up after ${seconds} s`);
    assert.match(
      restore.stderr,
      /^driveseed: cannot reach the driveseed service at http:\/\/127\.0\.0\.1:\d+: .* \(tried 4 times in \d+ s\) \(check that the service runs and this machine reaches it \(http:\/\/127\.0\.0\.1:\d+\/health\)\)\n$/,
    );
    const points = cli(['agent', 'recovery-points', '--publish-settings', s.settings, '--server', s.registered.name], s.env);
    assert.match(points.stderr, /^driveseed: cannot reach the driveseed service at .* \(tried 4 times in \d+ s\)/);
    for (const command of [['status'], ['recovery-points']]) {
      const r = cli(['agent', ...command], s.env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^driveseed: cannot reach the driveseed service at .* \(check that the service runs/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
