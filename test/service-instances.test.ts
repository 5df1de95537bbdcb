import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startService } from '../src/service/start-service.js';
import { CLIENT_ASSERTION_TYPE } from '../src/api/contract.js';
import { routePath, routes } from '../src/api/routes.js';
import { ServiceClient } from '../src/api/service-client.js';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { signClientAssertion } from '../src/core/certificates/certificates.js';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { freePort, startAzurite, type Azurite } from '../src/testing/azurite.js';
import { startHaproxy, type LoadBalancer } from '../src/testing/haproxy.js';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { cli, cliAsync, json, tempDir } from './cli-harness.js';
import { startServiceProcess, stopProcess } from './service-harness.js';

/*
 * Several `driveseed service start` processes on one PostgreSQL and one Azurite, behind
 * Debian's HAProxy: what a provider runs. Issue 15.
 */

interface Instance {
  name: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
}

let postgres: Postgres;
let azurite: Azurite;
before(async () => {
  [postgres, azurite] = await Promise.all([startPostgres(), startAzurite()]);
});
after(async () => {
  await Promise.all([postgres?.stop(), azurite?.stop()]);
});

/** `count` instances started at the same moment, each with its own data dir, on one database and one blob container. */
async function startInstances(t: any, count: number, db: string, container: string, extra: string[] = []): Promise<Instance[]> {
  const dir = await tempDir(t);
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString };
  const instances = await Promise.all(
    ports.map(async (port, i) => {
      const dataDir = join(dir, `instance${i + 1}`);
      const child = await startServiceProcess(dataDir, port, ['--db', db, '--blob', `azure:${container}`, ...extra], env);
      return { name: `instance${i + 1}`, port, dataDir, process: child };
    }),
  );
  t.after(() => Promise.all(instances.map((instance) => stopProcess(instance.process))));
  return instances;
}

async function query<T>(db: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The one bootstrap file the instances wrote between them (the first start's keys). */
async function theBootstrap(instances: Instance[]): Promise<{ subscriptionId: string; ownerKey: string; operatorKey: string }> {
  const written = instances.filter((instance) => existsSync(join(instance.dataDir, 'bootstrap.json')));
  assert.equal(written.length, 1, `bootstrap files written by ${written.map((w) => w.name).join(', ')}`);
  return JSON.parse(await readFile(join(written[0]!.dataDir, 'bootstrap.json'), 'utf8'));
}

/** A server's vault repository, copied out of Azurite into a directory, for the engine's own check. */
async function copyOutOfAzure(container: string, prefix: string, dir: string): Promise<void> {
  const store = AzureStore.fromConnectionString(azurite.connectionString, container);
  for await (const info of store.list(prefix)) {
    const file = join(dir, info.name.slice(prefix.length));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await store.get(info.name));
  }
}

describe('several service instances', () => {
  it('three started at once on an empty database: migrations run once, one first subscription, all healthy', async (t) => {
    const db = await postgres.createDatabase('at_once');
    const instances = await startInstances(t, 3, db, 'at-once');
    for (const instance of instances) {
      const health = await (await fetch(`http://127.0.0.1:${instance.port}/health`)).json();
      assert.deepEqual({ status: health.status, database: health.database }, { status: 'ok', database: 'postgres' }, instance.name);
    }
    const migrations = await query<{ name: string }>(db, 'select name from kysely_migration order by name');
    assert.equal(migrations.length, new Set(migrations.map((m) => m.name)).size);
    assert.ok(migrations.some((m) => m.name === '0009_forget_settled_drive_keys'));
    const subscriptions = await query<{ id: string; name: string }>(db, 'select id, name from subscriptions');
    assert.equal(subscriptions.length, 1, 'each instance made its own first subscription');
    const bootstrap = await theBootstrap(instances);
    assert.equal(bootstrap.subscriptionId, subscriptions[0]!.id);
    assert.match(bootstrap.operatorKey, /^dsop_/, 'the operator key comes from the same first start');
    // The owner key the winner wrote works on every instance: they share the database, not memory.
    for (const instance of instances) {
      const signIn = await fetch(`http://127.0.0.1:${instance.port}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: bootstrap.ownerKey }),
      });
      assert.equal(signIn.status, 201, `${instance.name}: ${await signIn.text()}`);
    }
  });

  it('five starts in one process at the same moment (each checks before any creates): still one first subscription', async (t) => {
    // Processes started together mostly pass the migration lock one after another, which hides
    // the race; starts in one process all count the subscriptions before any insert lands.
    const db = await postgres.createDatabase('same_moment');
    const dir = await tempDir(t);
    const started = await Promise.all(
      Array.from({ length: 5 }, (_, i) => startService({ dataDir: join(dir, `s${i}`), listen: '127.0.0.1:0', db, importWorker: false })),
    );
    t.after(() => Promise.all(started.map((s) => s.stop())));
    assert.equal(started.filter((s) => s.bootstrap).length, 1);
    assert.equal(started.filter((s) => s.operatorKey).length, 1);
    assert.equal(started.find((s) => s.bootstrap)!.operatorKey !== undefined, true, 'both keys come from one start');
    assert.equal((await query(db, 'select id from subscriptions')).length, 1);
  });

  it('an instance outlives its PostgreSQL connections being cut (a restart, a failover): the next requests reconnect', async (t) => {
    const db = await postgres.createDatabase('cut_off');
    const [instance] = await startInstances(t, 1, db, 'cut-off');
    const bootstrap = await theBootstrap([instance!]);
    const signIn = () =>
      fetch(`http://127.0.0.1:${instance!.port}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: bootstrap.ownerKey }),
      }).then(
        (r) => r.status,
        (e: Error) => `no answer: ${e.message}`,
      );
    assert.equal(await signIn(), 201);
    const cut = await query<{ pid: number }>(
      db,
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = 'cut_off' and pid <> pg_backend_pid()`,
    );
    assert.ok(cut.length > 0, 'the instance held connections');
    // A request may still meet a connection whose end the pool has not heard of yet: a few tries.
    const answers: (number | string)[] = [];
    for (let i = 0; i < 10 && answers.at(-1) !== 201; i++) {
      await sleep(200);
      answers.push(await signIn());
    }
    assert.equal(instance!.process.exitCode, null, `the instance exited: ${answers.join(', ')}`);
    assert.equal(answers.at(-1), 201, answers.join(', '));
  });

  it('a certificate revoked through one instance ends its tokens on the others too (at once where revoked, within seconds elsewhere)', async (t) => {
    const db = await postgres.createDatabase('revoked');
    const publicUrl = 'https://backup.example.test';
    const [first, second] = await startInstances(t, 2, db, 'revoked', ['--public-url', publicUrl]);
    const bootstrap = await theBootstrap([first!, second!]);
    const url = (instance: Instance) => `http://127.0.0.1:${instance.port}`;
    const owner = new ServiceClient(url(first!), { ownerKey: bootstrap.ownerKey });
    const certificate = await createSelfSignedCertificate('revoked-app', 30);
    const application = await owner.createApplication(bootstrap.subscriptionId, { name: 'revoked-app', certificate: certificate.certificatePem });
    // A token from the first instance, for the public address both answer for.
    const assertion = await signClientAssertion(application.id, `${publicUrl}${routes.token.path}`, certificate);
    const issued = await fetch(url(first!) + routes.token.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: application.id,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
      }),
    });
    assert.equal(issued.status, 200, await issued.clone().text());
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const whoami = async (instance: Instance) =>
      (await fetch(url(instance) + routePath(routes.whoami, { subscriptionId: bootstrap.subscriptionId }), { headers: { authorization: `Bearer ${token}` } }))
        .status;
    assert.deepEqual([await whoami(first!), await whoami(second!)], [200, 200], 'a token of one instance is good on every one');

    await owner.request('revokeCertificate', {
      params: { subscriptionId: bootstrap.subscriptionId, applicationId: application.id, thumbprint: certificate.thumbprint },
    });
    assert.equal(await whoami(first!), 401, 'the instance that revoked refuses the token at once');
    // The other reads revocations from the database every few seconds: bounded, so one that never does fails here.
    const seen: number[] = [];
    for (let i = 0; i < 60 && seen.at(-1) !== 401; i++) {
      await sleep(250);
      seen.push(await whoami(second!));
    }
    assert.equal(seen.at(-1), 401, `the other instance still honours the token: ${seen.join(', ')}`);
  });

  it('behind HAProxy: an instance killed mid-upload, the backup completes on the others, check and restore are clean', async (t) => {
    const db = await postgres.createDatabase('balanced');
    const container = 'balanced';
    const lbPort = await freePort();
    const publicUrl = `http://127.0.0.1:${lbPort}`;
    const instances = await startInstances(t, 3, db, container, ['--public-url', publicUrl, '--trust-proxy', '127.0.0.1']);
    const lb: LoadBalancer = await startHaproxy(
      instances.map((i) => ({ name: i.name, port: i.port })),
      { port: lbPort },
    );
    t.after(() => lb.stop());
    const bootstrap = await theBootstrap(instances);
    const dir = await tempDir(t);
    // Packs through the service (and so through the balancer), not straight to Azurite.
    const env = { DRIVESEED_HOME: join(dir, 'agent'), DRIVESEED_DIRECT_BLOBS: 'off' };
    const settings = join(dir, 'publish.json');
    const published = cli(
      ['service', 'publish-settings', '--service', lb.url, '--subscription', bootstrap.subscriptionId, '--owner-key', bootstrap.ownerKey, '--out', settings],
      env,
    );
    assert.equal(published.code, 0, published.stderr);
    const registered = json(cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--json'], env));
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    for (let i = 0; i < 6; i++) await writeFile(join(data, `part${i}`), randomBytes(8 * 1024 * 1024));
    // Slow enough that a pack upload lasts a while: the kill lands on one that is on its way.
    assert.equal(cli(['agent', 'protect', data, '--limit-upload', '12M'], env).code, 0);
    const backup = cliAsync(['agent', 'backup-now', '--json'], env);
    let stdout = '';
    let stderr = '';
    backup.stdout!.on('data', (c) => (stdout += c));
    backup.stderr!.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => backup.once('exit', resolve));

    const repository = `vaults/${registered.vaultId}/servers/${registered.id}/`;
    const store = AzureStore.fromConnectionString(azurite.connectionString, container);
    const packsStored = async () => {
      let n = 0;
      for await (const info of store.list(`${repository}data/`)) if (/[0-9a-f]{64}$/.test(info.name)) n++;
      return n;
    };
    // Once one pack is stored, the next is on its way: kill the instance that is carrying a request.
    let victim: Instance | undefined;
    while (!victim) {
      assert.equal(backup.exitCode, null, `the backup ended before an instance was killed: ${stdout}${stderr}`);
      if ((await packsStored()) >= 1) {
        const busy = (await lb.backends()).find((b) => b.current > 0);
        victim = instances.find((i) => i.name === busy?.name);
      }
      if (!victim) await sleep(20);
    }
    await stopProcess(victim.process, 'SIGKILL');

    assert.equal(await exited, 0, stdout + stderr);
    const job = JSON.parse(stdout);
    assert.equal(job.state, 'Completed');
    // Each instance carried part of the work; the dead one is out of the balancer's rotation.
    const states = await lb.backends();
    const live = states.filter((b) => b.name !== victim!.name);
    assert.ok(
      live.every((b) => b.total > 0),
      JSON.stringify(states),
    );
    const jobs = await query<{ state: string }>(db, 'select state from backup_jobs');
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['Completed'],
      'no job is left InProgress',
    );

    const copy = join(dir, 'vault-copy');
    await copyOutOfAzure(container, repository, copy);
    const check = cli(['check', '--repo', copy, '--read-data']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const target = join(dir, 'restore');
    const restored = cli(['agent', 'restore', 'latest', '--target', target], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
    const health = await fetch(`${lb.url}/health`);
    assert.equal(health.status, 200);
  });
});
