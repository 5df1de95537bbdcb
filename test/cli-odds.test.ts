import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, PASSWORD, cli, tempDir } from './cli-harness.js';

/*
 * The odds a new user met in a day of driveseed (issue 18, "Prompts and odds"), each as they met it.
 */
describe('the odds of daily use', () => {
  it('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `driveseed ${pkg.version} (node ${process.versions.node})\n`);
    }
  });

  it('snapshots has a header and counts in the singular for one', async (t) => {
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'a.txt'), 'hello');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const empty = cli(['snapshots', '--repo', repo]);
    assert.equal(empty.stdout, '0 snapshots\n', 'no header over nothing');
    assert.equal(cli(['backup', '--repo', repo, data, '--tag', 'first']).code, 0);
    const r = cli(['snapshots', '--repo', repo]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    assert.match(lines[0], /^ID {8}Time {17}Host +Size {2}Paths$/);
    assert.match(lines[1], /^-+$/);
    assert.equal(lines[1].length, lines[2].length, 'the rule is as wide as the row');
    assert.match(lines[2], new RegExp(`^[0-9a-f]{8}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  \\S+ +\\d+ B  ${data} \\[first\\]$`));
    assert.equal(lines[3], '1 snapshot');
    const restored = cli(['restore', '--repo', repo, 'latest', '--target', join(dir, 'out')]);
    assert.match(restored.stdout, /^restored 1 file, \d+ directories, 0 symlinks /);
  });

  it('init at a place that takes no directories (/proc/x) fails at once, in one line', { timeout: 30_000 }, () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [BIN, 'init', '--repo', '/proc/driveseed-test-x'], {
      env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.signal, null, 'it returned by itself');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'driveseed: cannot create directory /proc/driveseed-test-x: this file system does not take new directories there\n');
  });

  it('a link speed or rate without a unit is refused with what to write instead', async (t) => {
    const dir = await tempDir(t);
    const env = { DRIVESEED_HOME: join(dir, 'agent') };
    await writeFile(join(dir, 'data.bin'), Buffer.alloc(100_000, 7));
    const estimate = cli(['agent', 'estimate', dir, '--bandwidth', '20'], env);
    assert.equal(estimate.code, 2, estimate.stderr);
    assert.equal(estimate.stderr, 'driveseed: a link speed needs a unit: "20" (write 20Mbit for megabits a second, or 20MB/s for megabytes)\n');
    const protect = cli(['agent', 'protect', dir, '--limit-upload', '2'], env);
    assert.equal(protect.code, 2, protect.stderr);
    assert.equal(protect.stderr, 'driveseed: a rate needs a unit: "2" (write 2M for megabytes a second, or 2B/s if you mean bytes)\n');
    const withUnit = cli(['agent', 'estimate', dir, '--bandwidth', '20Mbit'], env);
    assert.equal(withUnit.code, 0, withUnit.stderr);
    assert.match(withUnit.stdout, /20Mbit/);
  });
});
