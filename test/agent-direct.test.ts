import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { buildServer } from '../src/service/server.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { startAzurite } from '../src/testing/azurite.js';
import { startFaultProxy } from '../src/testing/fault-proxy.js';
import { cliAwait as cli, json, PASSWORD, tempDir } from './cli-harness.js';

const PACK_PUT = /\/data\/[0-9a-f]{2}\/[0-9a-f]{64}$/;

/** An in-process service on Azurite behind a fault proxy, and a registered agent with a protected tree. */
async function setUp(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const azurite = await startAzurite();
  const endpoint = /BlobEndpoint=(http:\/\/[^/]+)/.exec(azurite.connectionString)![1];
  const proxy = await startFaultProxy(endpoint);
  const database = await openDatabase(join(dir, 'service.db'));
  const app = await buildServer({ database, blobs: AzureStore.fromConnectionString(azurite.connectionString.replace(endpoint, proxy.origin), 'vaults') });
  const serviceRequests: { method: string; url: string; bytes: number }[] = [];
  app.addHook('onRequest', async (request) => {
    serviceRequests.push({ method: request.method, url: request.url, bytes: Number(request.headers['content-length'] ?? 0) });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await database.close();
    await proxy.stop();
    await azurite.stop();
  });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const sub = await createSubscription(database.db, 'direct', new Date());
  const env = { DRIVESEED_HOME: join(dir, 'agent'), DRIVESEED_RETRY_SECONDS: '20' };
  const settings = join(dir, 'publish.json');
  assert.equal(
    (await cli(['service', 'publish-settings', '--service', url, '--subscription', sub.id, '--owner-key', sub.ownerKey, '--out', settings], env)).code,
    0,
  );
  const registered = json(await cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--json'], env));
  const data = join(dir, 'data');
  await writeSampleTree(data, 12, 40);
  await writeFile(join(data, 'big'), randomBytes(3 * 1024 * 1024));
  assert.equal((await cli(['agent', 'protect', data], env)).code, 0);
  return { dir, data, env, proxy, serviceRequests, registered };
}

describe('online backup with packs sent straight to blob storage (Azurite)', () => {
  it('the service signs, the agent uploads: no pack passes through the service; restore byte for byte', async (t) => {
    const s = await setUp(t);
    const job = json(await cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(job.state, 'Completed');
    const direct = s.proxy.seen.filter((r) => r.method === 'PUT' && PACK_PUT.test(r.path));
    assert.ok(direct.length >= 2, 'data and tree packs went to storage directly');
    for (const put of direct) assert.ok(put.path.includes(`/vaults/vaults/${s.registered.vaultId}/servers/${s.registered.id}/data/`), put.path);
    const packBytesViaService = s.serviceRequests.filter((r) => r.method === 'PUT' && /\/blobs\/data\//.test(r.url));
    assert.deepEqual(packBytesViaService, [], 'no pack PUT reached the service');
    assert.ok(s.serviceRequests.some((r) => r.url.endsWith('/blob-grants')));
    assert.ok(
      s.serviceRequests.some((r) => r.method === 'PUT' && /\/blobs\/snapshots\//.test(r.url)),
      'the snapshot still goes through the service, checked there',
    );
    assert.ok(job.bytesSent > 3 * 1024 * 1024);

    const target = join(s.dir, 'restore');
    const restore = await cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
    assert.ok(
      s.proxy.seen.some((r) => r.method === 'GET' && PACK_PUT.test(r.path)),
      'packs were read from storage directly too',
    );
    assert.ok(!s.serviceRequests.some((r) => r.method === 'GET' && /\/blobs\/data\//.test(r.url)));
    assert.ok(!s.serviceRequests.some((r) => r.url.includes(encodeURIComponent(PASSWORD)) || r.url.includes(PASSWORD)));
  });

  it('storage failing and slow: retries, then a clear one-line error, the job Failed and no half-written recovery point', async (t) => {
    const s = await setUp(t);
    // Transient: four pack uploads answered 503 and every storage request slowed; the backup completes.
    let failures = 4;
    s.proxy.latencyMs = 30;
    s.proxy.failWhen((r) => (r.method === 'PUT' && PACK_PUT.test((r.url ?? '').split('?')[0]) && failures-- > 0 ? 503 : undefined));
    const ok = json(await cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(ok.state, 'Completed');
    assert.equal(s.proxy.seen.filter((r) => r.failed).length, 4);

    // Permanent: every pack upload fails; after the retry budget the job fails and no point is recorded.
    s.proxy.latencyMs = 0;
    s.proxy.failWhen((r) => (r.method === 'PUT' && PACK_PUT.test((r.url ?? '').split('?')[0]) ? 503 : undefined));
    await writeFile(join(s.data, 'new'), randomBytes(50_000));
    const failed = await cli(['agent', 'backup-now'], { ...s.env, DRIVESEED_RETRY_SECONDS: '3' });
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1, failed.stderr);
    assert.match(failed.stderr, /failed \d+ times/);
    assert.doesNotMatch(failed.stderr, /sig=/, 'the signed URL (a credential) is not printed');
    s.proxy.failWhen(undefined);
    const status = json(await cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.jobs[0].state, 'Failed');
    assert.ok(status.jobs[0].error);
    assert.equal(status.recoveryPoints.length, 1);
    const restore = await cli(['agent', 'restore', 'latest', '--target', join(s.dir, 'restore')], s.env);
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await readFile(join(s.dir, 'restore', s.data, 'big')), await readFile(join(s.data, 'big')), 'the first point is intact');
  });
});
