import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { startService } from '../src/service/start-service.js';
import { cliAwait, json, tempDir } from './cli-harness.js';
import { startHookReceiver } from './alert-receiver.js';

const DONE = { filesNew: 1, filesChanged: 0, filesUnchanged: 0, bytesRead: 10, bytesSent: 10, warnings: 0 };

describe('alerts with two service instances on one PostgreSQL database', () => {
  it('rounds racing on both instances raise, resolve and deliver each alert once', { timeout: 180_000 }, async (t) => {
    const { startPostgres } = await import('../src/testing/postgres.js');
    const postgres = await startPostgres();
    // One teardown, in order: the instances close their pools before the server goes.
    const running: { stop(): Promise<void> }[] = [];
    t.after(async () => {
      for (const service of running.reverse()) await service.stop();
      await postgres.stop();
    });
    const db = await postgres.createDatabase('alerts');
    const dir = await tempDir(t, 'alerts-pg-');
    const start = (name: string) =>
      startService({ dataDir: join(dir, name), listen: '127.0.0.1:0', db, alertIntervalSeconds: 0, importWorker: false, allowPrivateWebhooks: true });
    const a = await start('a');
    running.push(a);
    const b = await start('b');
    running.push(b);
    const { subscriptionId, ownerKey } = a.bootstrap!;
    assert.equal(b.bootstrap, undefined, 'the second instance finds the subscription made');
    const owner = new ServiceClient(b.url, { ownerKey });
    let secret = '';
    const hooks = await startHookReceiver(() => secret);
    t.after(() => hooks.close());
    secret = (await owner.request('createAlertTarget', { params: { subscriptionId }, body: { kind: 'webhook', address: hooks.url } })).secret!;
    const settings = join(dir, 'publish.json');
    await writeFile(settings, JSON.stringify({ version: 1, serviceUrl: a.url, subscriptionId, ownerKey }));
    const registered = await cliAwait(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--name', 'pg-01', '--json'], {
      DRIVESEED_HOME: join(dir, 'agent'),
    });
    assert.equal(registered.code, 0, registered.stderr);
    const server = { subscriptionId, vaultName: 'main', serverId: json(registered).id as string };
    await owner.request('setPolicy', { params: server, body: { paths: ['/srv'] } });
    const job = await owner.request('startJob', { params: server, body: { kind: 'online' } });
    await owner.request('finishJob', { params: { ...server, jobId: job.id }, body: { ...DONE, state: 'Failed', error: 'volume offline' } });

    const race = async () => {
      for (let i = 0; i < 3; i++) await Promise.all([a.alerts.runOnce(), b.alerts.runOnce()]);
    };
    await race();
    assert.deepEqual(hooks.received.map((h) => `${h.event} ${h.body.alert.kind}`).sort(), ['alert.raised backup-failed', 'alert.raised no-recovery-point']);
    assert.equal((await owner.request('listAlerts', { params: { subscriptionId }, query: {} })).alerts.length, 2);

    const next = await owner.request('startJob', { params: server, body: { kind: 'online' } });
    const point = { snapshotId: 'c'.repeat(64), time: new Date().toISOString(), totalBytes: 10, files: 1 };
    await owner.request('finishJob', { params: { ...server, jobId: next.id }, body: { ...DONE, state: 'Completed', recoveryPoint: point } });
    await race();
    assert.deepEqual(
      hooks.received
        .slice(2)
        .map((h) => `${h.event} ${h.body.alert.kind}`)
        .sort(),
      ['alert.resolved backup-failed', 'alert.resolved no-recovery-point'],
    );
    assert.equal(new Set(hooks.received.map((h) => h.delivery)).size, 4, 'no delivery went out twice');
    assert.ok(hooks.received.every((h) => h.signed));
    const all = (await owner.request('listAlerts', { params: { subscriptionId }, query: { state: 'all' } })).alerts;
    assert.equal(all.length, 2);
    assert.ok(all.every((x) => x.resolvedAt));
  });
});
