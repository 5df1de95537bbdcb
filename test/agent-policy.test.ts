import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

const policyOf = (env: Record<string, string>) => json(cli(['agent', 'policy', '--json'], env));

describe('agent protect changes only what it is given', () => {
  it('schedule, paths, excludes and upload limit each change alone; --no-schedule and --limit-upload off clear', async (t) => {
    const s = await setUpAgent(t);
    const none = cli(['agent', 'protect', '--schedule', '0 2 * * *'], s.env);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /^driveseed: nothing to protect yet \(give the paths/);
    assert.equal(cli(['agent', 'policy'], s.env).code, 1, 'no policy yet');

    const first = cli(['agent', 'protect', s.data, '--schedule', '0 2 * * *', '--limit-upload', '2M', '--exclude', '*.tmp'], s.env);
    assert.equal(first.code, 0, first.stderr);
    const full = { paths: [s.data], excludes: ['*.tmp'], schedule: '0 2 * * *', limitUpload: 2_000_000 };
    assert.deepEqual(policyOf(s.env), full);

    const schedule = cli(['agent', 'protect', '--schedule', '30 3 * * *'], s.env);
    assert.match(schedule.stdout, /^changed: schedule$/m);
    assert.deepEqual(policyOf(s.env), { ...full, schedule: '30 3 * * *' });
    const other = join(s.dir, 'other');
    cli(['agent', 'protect', other], s.env);
    assert.deepEqual(policyOf(s.env), { ...full, schedule: '30 3 * * *', paths: [other] });
    // The vault's record follows the merged policy, not just the flags of the last call.
    const server = json(cli(['agent', 'status', '--json'], s.env)).server;
    assert.deepEqual([server.paths, server.schedule], [[other], '30 3 * * *']);
    cli(['agent', 'protect', '--exclude', '*.log', '--exclude', 'cache/'], s.env);
    assert.deepEqual(policyOf(s.env).excludes, ['*.log', 'cache/']);
    // An exclude file's patterns join the flags' (issue 18); the policy keeps them, not the file's name.
    await writeFile(join(s.dir, 'excludes'), '# scratch\n*.swp\n\n');
    assert.equal(cli(['agent', 'protect', '--exclude', '*.log', '--exclude-file', join(s.dir, 'excludes')], s.env).code, 0);
    assert.deepEqual(policyOf(s.env).excludes, ['*.log', '*.swp']);
    cli(['agent', 'protect', '--exclude', '*.log', '--exclude', 'cache/'], s.env);

    const cleared = cli(['agent', 'protect', '--no-schedule', '--limit-upload', 'off', '--no-excludes'], s.env);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, /^changed: excludes, schedule, upload limit$/m);
    assert.deepEqual(policyOf(s.env), { paths: [other], excludes: [] });
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).server.schedule, undefined);
    assert.match(cli(['agent', 'protect'], s.env).stdout, /^nothing changed$/m);

    const bad = cli(['agent', 'protect', '--schedule', 'every day'], s.env);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.deepEqual(policyOf(s.env), { paths: [other], excludes: [] }, 'a refused change changes nothing');
  });

  it('a staged seed survives a re-run with --schedule; going online needs --force and names the bytes', async (t) => {
    const s = await setUpAgent(t);
    const staging = join(s.dir, 'staging');
    const offline = ['--offline', '--staging', staging, '--job', 'seed-one', '--storage-account', 'seedacct', '--container', 'seeds'];
    assert.equal(cli(['agent', 'protect', s.data, '--limit-upload', '1M', ...offline], s.env).code, 0);
    const staged = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(staged.kind, 'offline');

    // The report of issue 16: this once dropped offline mode, the upload limit and the schedule.
    const again = cli(['agent', 'protect', s.data, '--schedule', '0 2 * * *'], s.env);
    assert.equal(again.code, 0, again.stderr);
    const policy = policyOf(s.env);
    assert.equal(policy.offline.jobName, 'seed-one');
    assert.equal(policy.limitUpload, 1_000_000);
    assert.equal(policy.schedule, '0 2 * * *');
    const next = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(next.state, 'Waiting', 'the next backup still waits for the import, it does not send everything');
    assert.match(next.message, /Waiting for import job to complete/);

    // Offline flags not given keep their values.
    assert.equal(cli(['agent', 'protect', '--offline', '--heal-limit', '5MB'], s.env).code, 0);
    assert.deepEqual(policyOf(s.env).offline, { ...policy.offline, healLimit: 5_000_000 });

    const refused = cli(['agent', 'protect', '--online'], s.env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^driveseed: the seed of import job seed-one is staged in .*; going online sends its [\d.]+ [KM]iB \((\d+) bytes\) over the network instead \(add --force/,
    );
    const bytes = Number(/\((\d+) bytes\)/.exec(refused.stderr)![1]);
    assert.ok(bytes > 10_000, `the staged seed holds ${bytes} bytes`);
    assert.equal(policyOf(s.env).offline.jobName, 'seed-one', 'refused: nothing changed');

    const forced = cli(['agent', 'protect', '--online', '--force'], s.env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, new RegExp(`gave up the seed of import job seed-one: the next backup sends about ${bytes} bytes over the network`));
    const online = policyOf(s.env);
    assert.equal(online.offline, undefined);
    assert.deepEqual([online.limitUpload, online.schedule], [1_000_000, '0 2 * * *'], 'the rest of the policy stays');
    const sent = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(sent.state, 'Completed');
    assert.equal(sent.kind, 'online');
  });
});

describe('agent protect --exclude-caches and --one-file-system (issue 18)', () => {
  it('are kept in the policy, merged like the other flags, and applied by the agent’s backups', async (t) => {
    const SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';
    const s = await setUpAgent(t, {
      data: async (data) => {
        await mkdir(join(data, 'cache'), { recursive: true });
        await writeFile(join(data, 'cache', 'CACHEDIR.TAG'), `${SIGNATURE}\n`);
        await writeFile(join(data, 'cache', 'blob'), 'b');
        await writeFile(join(data, 'kept.txt'), 'k');
      },
    });
    const separateShm = statSync('/dev').dev !== statSync('/dev/shm').dev;
    const probe = join('/dev/shm', `driveseed-agent-onefs-${process.pid}`);
    await writeFile(probe, 'p');
    t.after(() => rm(probe, { force: true }));
    const paths = separateShm ? [s.data, '/dev'] : [s.data];
    const on = cli(['agent', 'protect', ...paths, '--exclude-caches', '--one-file-system'], s.env);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /^exclude caches: yes/m);
    assert.match(on.stdout, /^one file system: yes/m);
    assert.equal(cli(['agent', 'protect', '--schedule', '0 2 * * *'], s.env).code, 0);
    assert.deepEqual([policyOf(s.env).excludeCaches, policyOf(s.env).oneFileSystem], [true, true], 'another flag keeps both');

    const backup = cli(['agent', 'backup-now', '--json'], s.env);
    assert.ok([0, 3].includes(backup.code), backup.stderr);
    const target = join(s.dir, 'restored');
    const restore = cli(['agent', 'restore', 'latest', '--target', target, '--include', `${s.data}/**`, '--include', '/dev/shm'], s.env);
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual((await readdir(join(target, s.data, 'cache'))).sort(), ['CACHEDIR.TAG'], 'the cache is left out, its tag kept');
    assert.equal(await readFile(join(target, s.data, 'kept.txt'), 'utf8'), 'k');
    if (separateShm) assert.deepEqual(await readdir(join(target, '/dev/shm')), [], 'the mount point is kept, empty');

    const off = cli(['agent', 'protect', '--no-exclude-caches', '--no-one-file-system'], s.env);
    assert.match(off.stdout, /^changed: one file system, exclude caches$/m);
    assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
    assert.ok([0, 3].includes(cli(['agent', 'backup-now'], s.env).code));
    const again = join(s.dir, 'again');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', again], s.env).code, 0);
    assert.deepEqual((await readdir(join(again, s.data, 'cache'))).sort(), ['CACHEDIR.TAG', 'blob'], 'turned off, the cache is backed up again');
  });
});
