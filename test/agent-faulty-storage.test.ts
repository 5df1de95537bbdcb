import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { buildServer } from '../src/service/server.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { FaultyStore } from '../src/core/storage/faulty.js';
import { startAzurite } from '../src/testing/azurite.js';
import { cliAwait as cli, json, tempDir } from './cli-harness.js';

describe('agent against failing and slow blob storage (Azurite behind a fault injector)', () => {
  it('retries through transient errors and slowness, then fails clearly without a recovery point', async (t) => {
    const dir = await tempDir(t);
    const azurite = await startAzurite();
    t.after(() => azurite.stop());
    const database = await openDatabase(join(dir, 'service.db'));
    const faulty = new FaultyStore(AzureStore.fromConnectionString(azurite.connectionString, 'faulty-vaults'));
    const app = await buildServer({ database, blobs: faulty });
    await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(async () => {
      await app.close();
      await database.close();
    });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const sub = await createSubscription(database.db, 'faulty', new Date());
    const env = { DRIVESEED_HOME: join(dir, 'agent'), DRIVESEED_RETRY_SECONDS: '20' };
    const settings = join(dir, 'publish.json');
    assert.equal(
      (await cli(['service', 'publish-settings', '--service', url, '--subscription', sub.id, '--owner-key', sub.ownerKey, '--out', settings], env)).code,
      0,
    );
    json(await cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--json'], env));
    const data = join(dir, 'data');
    await writeSampleTree(data, 12, 40);
    await cli(['agent', 'protect', data], env);

    // Transient: the next four puts fail and every call is slow; the backup still completes.
    faulty.failNext('put', 4);
    faulty.latencyMs = 30;
    const ok = json(await cli(['agent', 'backup-now', '--json'], env));
    assert.equal(ok.state, 'Completed');
    assert.ok(faulty.calls.filter((c) => c.op === 'put').length > 4);

    // Permanent: every put fails; after the retry budget the job fails and no point is recorded.
    faulty.latencyMs = 0;
    faulty.failMatching((op) => op === 'put');
    await writeFile(join(data, 'new'), randomBytes(50_000));
    const failed = await cli(['agent', 'backup-now'], { ...env, DRIVESEED_RETRY_SECONDS: '3' });
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1, failed.stderr);
    assert.match(failed.stderr, /failed \d+ times/);
    faulty.failMatching(undefined);
    const status = json(await cli(['agent', 'status', '--json'], env));
    assert.equal(status.jobs[0].state, 'Failed');
    assert.equal(status.recoveryPoints.length, 1);
    // And the repository the first backup left is intact.
    const restore = await cli(['agent', 'restore', 'latest', '--target', join(dir, 'restore')], env);
    assert.equal(restore.code, 0, restore.stderr);
  });
});
