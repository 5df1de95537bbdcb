import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { cli, json } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

describe('disaster recovery: a lost server restored on a new machine', () => {
  it('lose the agent directory, recover on a fresh home with publish settings and password, restore byte for byte; the old certificate gets no token', async (t) => {
    const s = await setUpAgent(t);
    const name = s.registered.name as string;
    assert.equal(cli(['agent', 'protect', s.data, '--schedule', '0 2 * * *'], s.env).code, 0);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    const changed = join(s.data, 'dir1', 'sub1', 'file1.txt');
    const before = await readFile(changed);
    await writeFile(changed, 'changed after the first recovery point\n');
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');

    // The server is lost. What a thief (or a resurrected old disk) would still hold is kept aside,
    // with a token it got just before: the takeover must end that too, not let it live out its hour.
    const oldDisk = join(s.dir, 'old-disk');
    await cp(s.env.DRIVESEED_HOME, oldDisk, { recursive: true });
    const oldConfig = JSON.parse(await readFile(join(oldDisk, 'config.json'), 'utf8'));
    const applicationId = oldConfig.registration.applicationId as string;
    const oldThumbprint = oldConfig.applicationCertThumbprints[applicationId] as string;
    const thief = new ServiceClient(s.url, {
      applicationId,
      certificate: {
        thumbprint: oldThumbprint,
        certificatePem: await readFile(join(oldDisk, 'certs', `${oldThumbprint}.pem`), 'utf8'),
        privateKeyPem: await readFile(join(oldDisk, 'certs', `${oldThumbprint}.key`), 'utf8'),
      },
    });
    const serverParams = { subscriptionId: s.bootstrap.subscriptionId, vaultName: 'main', serverId: s.registered.id };
    assert.equal((await thief.request('serverStatus', { params: serverParams })).server.id, s.registered.id);
    await rm(s.env.DRIVESEED_HOME, { recursive: true, force: true });
    const fresh = { DRIVESEED_HOME: join(s.dir, 'new-machine') };
    const recover = ['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--recover', name, '--json'];

    // Bad input changes nothing: an unknown server, a wrong password.
    const unknown = cli([...recover.slice(0, -2), 'no-such-server'], fresh);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`^driveseed: vault main has no server no-such-server \\(its servers: ${name}\\)\\n$`));
    const wrong = cli(recover, { ...fresh, DRIVESEED_PASSWORD: 'not the password' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong password/);
    assert.equal(cli(['agent', 'status'], { DRIVESEED_HOME: oldDisk }).code, 0, 'a refused recovery leaves the old machine signed in');
    assert.match(cli(['agent', 'status'], fresh).stderr, /not registered/, 'and registers nothing here');

    const recovered = json(cli(recover, fresh));
    assert.equal(recovered.server.id, s.registered.id);
    assert.equal(recovered.revoked.length, 1);
    assert.equal(recovered.passwordChecked, true);
    const stolen = cli(['agent', 'status'], { DRIVESEED_HOME: oldDisk });
    assert.equal(stolen.code, 1);
    assert.match(stolen.stderr, /certificate that signed the assertion is revoked/);
    await assert.rejects(thief.request('serverStatus', { params: serverParams }), /the certificate this token was issued for is revoked/);

    const points = json(cli(['agent', 'recovery-points', '--server', name, '--json'], fresh));
    assert.equal(points.server, name);
    assert.equal(points.recoveryPoints.length, 2);
    const target = join(s.dir, 'restore');
    const whole = cli(['agent', 'restore', 'latest', '--server', name, '--target', target], fresh);
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
    // By path, from the older point: the file as it was then, and nothing else.
    const older = points.recoveryPoints[1].id.slice(0, 10);
    const one = join(s.dir, 'one-file');
    const byPath = cli(['agent', 'restore', older, '--include', changed, '--target', one], fresh);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.deepEqual(await readFile(join(one, changed)), before);
    assert.deepEqual(await readdir(join(one, s.data)), ['dir1']);

    // The new machine carries on as the server: the vault's paths and schedule came with it.
    assert.deepEqual(json(cli(['agent', 'policy', '--json'], fresh)), { paths: [s.data], excludes: [], schedule: '0 2 * * *' });
    const next = json(cli(['agent', 'backup-now', '--json'], fresh));
    assert.equal(next.state, 'Completed');
    assert.equal(next.filesUnchanged, 82, "the new machine's first backup builds on the lost one's");
  });

  it("a recovered machine gets the whole policy from the vault: excludes (an exclude file's too), upload limit, retention, items, hooks, offline seeding, time zone", async (t) => {
    const s = await setUpAgent(t);
    const name = s.registered.name as string;
    const excludeFile = join(s.dir, 'excludes.txt');
    await writeFile(excludeFile, '# build output\n*.o\ncache/\n');
    const amsterdam = { ...s.env, TZ: 'Europe/Amsterdam' };
    const protect = (args: string[]) => {
      const r = cli(['agent', 'protect', ...args], amsterdam);
      assert.equal(r.code, 0, r.stderr);
    };
    protect([s.data, '--exclude', '*.tmp', '--exclude-file', excludeFile, '--limit-upload', '2M', '--schedule', '0 2 * * *']);
    protect(['--keep-daily', '7', '--keep-weekly', '4', '--keep-within', '30d']);
    protect(['--item', 'pgdump', '--command', 'echo "-- dump"', '--pre-hook', 'sync', '--post-hook', 'logger driveseed done']);
    const offline = ['--offline', '--staging', join(s.dir, 'staging'), '--job', 'seed-dr', '--storage-account', 'seedacct', '--container', 'seeds'];
    protect([...offline, '--heal-limit', '5MB']);
    const before = json(cli(['agent', 'policy', '--json'], s.env));
    assert.deepEqual(before.excludes, ['*.tmp', '*.o', 'cache/']);
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).server.timeZone, 'Europe/Amsterdam');

    // The server and its exclude file are gone; the new machine has the publish settings and the password.
    await rm(s.env.DRIVESEED_HOME, { recursive: true, force: true });
    await rm(excludeFile);
    const fresh = { DRIVESEED_HOME: join(s.dir, 'new-machine') };
    const recovered = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--recover', name], fresh);
    assert.equal(recovered.code, 0, recovered.stderr);
    // The commands it will run came from the vault: it says so before the first backup.
    assert.match(recovered.stdout, /runs with each backup, pre hook: sync$/m);
    assert.match(recovered.stdout, /runs with each backup, post hook: logger driveseed done$/m);
    assert.match(recovered.stdout, /runs with each backup, item pgdump: echo "-- dump"$/m);
    assert.deepEqual(json(cli(['agent', 'policy', '--json'], fresh)), before);
    // And it merges from there: one change keeps the rest.
    assert.equal(cli(['agent', 'protect', '--schedule', '30 3 * * *'], fresh).code, 0);
    assert.deepEqual(json(cli(['agent', 'policy', '--json'], fresh)), { ...before, schedule: '30 3 * * *' });
  });

  it('a policy document of a version this agent does not know stops the recovery with nothing taken over', async (t) => {
    const s = await setUpAgent(t);
    const name = s.registered.name as string;
    assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
    const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
    const params = { subscriptionId: s.bootstrap.subscriptionId, vaultName: 'main', serverId: s.registered.id };
    await owner.request('setPolicy', { params, body: { paths: [s.data], document: { version: 2, policy: { paths: [s.data], future: true } } } });
    const fresh = { DRIVESEED_HOME: join(s.dir, 'new-machine') };
    const refused = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--recover', name], fresh);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^driveseed: the vault's policy document is version 2; this agent reads version 1 \(install the driveseed version that wrote it, or newer\)\n$/,
    );
    assert.equal(cli(['agent', 'status'], s.env).code, 0, 'the old machine still signs in');
    assert.match(cli(['agent', 'status'], fresh).stderr, /not registered/);
    // A document that lies about its fields is refused the same way, field named.
    await owner.request('setPolicy', { params, body: { paths: [s.data], document: { version: 1, policy: { paths: ['relative/path'] } } } });
    const bad = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--recover', name], fresh);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /policy document: paths holds a path that is not absolute/);
    assert.equal(cli(['agent', 'status'], s.env).code, 0);
  });

  it("a new server in a vault hears it has no backups yet; the owner reads another server's points read-only", async (t) => {
    const s = await setUpAgent(t);
    cli(['agent', 'protect', s.data], s.env);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    const other = { DRIVESEED_HOME: join(s.dir, 'other') };
    json(cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--name', 'newbox', '--json'], other));
    const empty = cli(['agent', 'restore', 'latest', '--target', join(s.dir, 'r0')], other);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^driveseed: server newbox has no backups in vault main yet \(back it up first/);
    assert.doesNotMatch(empty.stderr, /driveseed init/);

    const notOurs = cli(['agent', 'recovery-points', '--server', s.registered.name], other);
    assert.equal(notOurs.code, 2);
    assert.match(notOurs.stderr, /is not this agent's .*--publish-settings FILE/);
    const asOwner = ['--server', s.registered.name, '--publish-settings', s.settings];
    assert.equal(json(cli(['agent', 'recovery-points', ...asOwner, '--json'], other)).recoveryPoints.length, 1);
    const target = join(s.dir, 'r1');
    const r = cli(['agent', 'restore', 'latest', ...asOwner, '--target', target], other);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
    assert.equal(cli(['agent', 'status'], s.env).code, 0, 'reading as the owner takes nothing over');
  });

  it('the manual certificate path: export-cert --new, upload-cert, set-thumbprint, then register works', async (t) => {
    const s = await setUpAgent(t);
    const again = { DRIVESEED_HOME: join(s.dir, 'reinstalled') };
    const refused = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--name', s.registered.name], again);
    assert.equal(refused.code, 1);
    const app = /upload-cert --app ([\w-]+)/.exec(refused.stderr)?.[1];
    assert.ok(app, refused.stderr);
    assert.match(refused.stderr, new RegExp(`--recover ${s.registered.name}`));
    const cer = join(s.dir, 'new.cer');
    const exported = cli(['certgen', 'export-cert', '--new', '--out', cer], again);
    const thumbprint = /certificate ([0-9a-f]{64})/.exec(exported.stdout)?.[1];
    assert.ok(thumbprint, exported.stdout + exported.stderr);
    assert.equal(cli(['certgen', 'upload-cert', '--publish-settings', s.settings, '--app', app, '--cert', cer], again).code, 0);
    assert.equal(cli(['certgen', 'set-thumbprint', '--app', app, '--thumbprint', thumbprint], again).code, 0);
    const registered = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--name', s.registered.name, '--json'], again);
    assert.equal(registered.code, 0, registered.stderr);
    assert.equal(json(registered).id, s.registered.id);
    assert.equal(cli(['agent', 'status'], again).code, 0);
  });
});
