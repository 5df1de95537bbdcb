import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { startAzurite } from '../src/testing/azurite.js';
import { cli, cliAsync, json } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

describe('agent and vault over the network', () => {
  it('register, protect, backup-now twice, status, restore byte for byte', async (t) => {
    const s = await setUpAgent(t);
    assert.equal(cli(['agent', 'protect', s.data, '--schedule', '0 2 * * *'], s.env).code, 0);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Completed');
    assert.equal(first.filesNew, 82);
    const second = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(second.filesUnchanged, 82);
    assert.ok(second.bytesSent < 20_000, `unchanged backup sent ${second.bytesSent} bytes`);
    const status = json(cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.recoveryPoints.length, 2);
    assert.deepEqual(status.server.paths, [s.data]);
    const target = join(s.dir, 'restore');
    // A dry run says what it would restore and writes nothing (issue 18).
    const dry = cli(['agent', 'restore', 'latest', '--target', target, '--dry-run'], s.env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^would restore 82 files \(/m);
    assert.equal(existsSync(target), false);
    const r = cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
    // A local edit in the target survives a second restore unless --overwrite says otherwise.
    const [edited] = (await readdir(join(target, s.data), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const editedPath = join(edited.parentPath, edited.name);
    await writeFile(editedPath, 'local edit');
    const again = cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /83 paths already in the target were left as they were/);
    assert.equal(await readFile(editedPath, 'utf8'), 'local edit');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target, '--overwrite', 'if-changed'], s.env).code, 0);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  });

  it('restores identical files, whose one blob is read once for all of them', async (t) => {
    // The pack holds that blob alone, so the ranged read returns exactly it: the buffer must not
    // be handed to a worker (moved, detaching it) while another file still needs it.
    const same = randomBytes(300 * 1024);
    const s = await setUpAgent(t, {
      data: async (data) => {
        await mkdir(data, { recursive: true });
        for (const name of ['a', 'b', 'c']) await writeFile(join(data, name), same);
      },
    });
    cli(['agent', 'protect', s.data], s.env);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    const target = join(s.dir, 'restore');
    const r = cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  });

  it('the vault holds only ciphertext in the repository format: the engine checks it in place', async (t) => {
    const s = await setUpAgent(t);
    cli(['agent', 'protect', s.data], s.env);
    json(cli(['agent', 'backup-now', '--json'], s.env));
    const repoDir = join(s.dataDir, 'blobs', 'vaults', s.registered.vaultId, 'servers', s.registered.id);
    const check = cli(['check', '--repo', repoDir, '--read-data'], { DRIVESEED_PASSWORD: 'correct horse battery staple' });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const wrong = cli(['check', '--repo', repoDir], { DRIVESEED_PASSWORD: 'not the agent password' });
    assert.match(wrong.stderr, /wrong password/);
  });

  it('a damaged index file in the vault: restore warns as the engine does and restores from pack headers', async (t) => {
    const s = await setUpAgent(t);
    cli(['agent', 'protect', s.data], s.env);
    json(cli(['agent', 'backup-now', '--json'], s.env));
    const indexDir = join(s.dataDir, 'blobs', 'vaults', s.registered.vaultId, 'servers', s.registered.id, 'index');
    const [index] = (await readdir(indexDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const file = join(index.parentPath, index.name);
    const bytes = await readFile(file);
    bytes[40] ^= 0x40;
    await writeFile(file, bytes);
    // A restore on another machine: no verified local copy of the index to fall back on.
    await rm(join(s.env.DRIVESEED_HOME, 'cache'), { recursive: true, force: true });
    const target = join(s.dir, 'restore');
    const r = cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: index/${index.name}: .* \\(packs indexed from their headers instead\\)$`, 'm'));
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  });

  it("another server's application cannot read this server's repository", async (t) => {
    const s = await setUpAgent(t);
    const otherHome = join(s.dir, 'other-agent');
    const settings = join(s.dir, 'publish.json');
    json(cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--name', 'other', '--json'], { DRIVESEED_HOME: otherHome }));
    const config = JSON.parse(await readFile(join(otherHome, 'config.json'), 'utf8'));
    config.registration.serverId = s.registered.id;
    await writeFile(join(otherHome, 'config.json'), JSON.stringify(config));
    const r = cli(['agent', 'status'], { DRIVESEED_HOME: otherHome });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not the one registered for the server/);
  });

  it('kill -9 of the service mid-backup: the agent waits it out, nothing acknowledged is lost', async (t) => {
    const s = await setUpAgent(t, {
      data: async (data) => {
        await mkdir(data, { recursive: true });
        for (let i = 0; i < 6; i++) await writeFile(join(data, `part${i}`), randomBytes(8 * 1024 * 1024));
      },
    });
    cli(['agent', 'protect', s.data, '--limit-upload', '12M'], s.env);
    const backup = cliAsync(['agent', 'backup-now', '--json'], s.env);
    let stdout = '';
    backup.stdout!.on('data', (c) => (stdout += c));
    const packs = join(s.dataDir, 'blobs', 'vaults', s.registered.vaultId, 'servers', s.registered.id, 'data');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await readdir(packs, { recursive: true }).catch(() => [])).filter((n) => /[0-9a-f]{64}$/.test(n)).length < 1)
      await sleep(20);
    await s.kill();
    await sleep(1500);
    await s.restart();
    const code = await new Promise((resolve) => backup.once('exit', resolve));
    assert.equal(code, 0, stdout);
    const job = JSON.parse(stdout);
    assert.equal(job.state, 'Completed');
    const repoDir = join(s.dataDir, 'blobs', 'vaults', s.registered.vaultId, 'servers', s.registered.id);
    assert.equal(cli(['check', '--repo', repoDir, '--read-data']).code, 0);
    const target = join(s.dir, 'restore');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target], s.env).code, 0);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  });

  it('blob storage failing (Azurite stopped): clear error, job Failed, no recovery point', async (t) => {
    const azurite = await startAzurite();
    let stopped = false;
    t.after(() => (stopped ? undefined : azurite.stop()));
    const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString };
    const s = await setUpAgent(t, { extra: ['--blob', 'azure:vaults'], env });
    cli(['agent', 'protect', s.data], s.env);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Completed');
    await writeFile(join(s.data, 'new-file'), randomBytes(100_000));
    await azurite.stop();
    stopped = true;
    const failed = cli(['agent', 'backup-now'], { ...s.env, DRIVESEED_RETRY_SECONDS: '5' });
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1, failed.stderr);
    assert.match(failed.stderr, /failed \d+ times/);
    const status = json(cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.jobs[0].state, 'Failed');
    assert.ok(status.jobs[0].error);
    assert.equal(status.recoveryPoints.length, 1, 'no recovery point from the failed run');
  });
});

describe('agent and vault with the service on PostgreSQL', () => {
  it('the online cycle works the same on a real PostgreSQL', async (t) => {
    const { startPostgres } = await import('../src/testing/postgres.js');
    const postgres = await startPostgres();
    t.after(() => postgres.stop());
    const url = await postgres.createDatabase('vault');
    const s = await setUpAgent(t, { extra: ['--db', url] });
    cli(['agent', 'protect', s.data], s.env);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Completed');
    assert.equal(typeof first.bytesSent, 'number');
    const status = json(cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.recoveryPoints.length, 1);
    assert.equal(status.recoveryPoints[0].files, 82);
    const target = join(s.dir, 'restore');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target], s.env).code, 0);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  });
});
