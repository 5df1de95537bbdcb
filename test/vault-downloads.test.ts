import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { ServiceClient } from '../src/api/service-client.js';
import { routePath, routes } from '../src/api/routes.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { buildServer } from '../src/service/server.js';
import { FsStore } from '../src/core/storage/fs/fs-store.js';
import { tempDir } from './cli-harness.js';

const BLOB = 32 * 1024 * 1024;
const CLIENTS = 8;

/** A download that takes its first bytes and then stops reading, until `finish` reads the rest. */
function slowDownload(url: string, headers: Record<string, string>) {
  const hash = createHash('sha256');
  let response!: IncomingMessage;
  const started = new Promise<void>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      response = res;
      res.once('data', (chunk: Buffer) => {
        hash.update(chunk);
        res.pause();
        resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const finish = () =>
    new Promise<{ status: number; length: number; sha256: string }>((resolve, reject) => {
      response.on('data', (chunk: Buffer) => hash.update(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, length: Number(response.headers['content-length']), sha256: hash.digest('hex') }));
      response.on('error', reject);
      response.resume();
    });
  return { started, finish };
}

describe('blob downloads through the service', () => {
  it('are streamed: eight stalled clients of a 32 MiB blob hold a few MiB of the service, not 256, and then get every byte', async (t) => {
    const dir = await tempDir(t, 'downloads-');
    const database = await openDatabase(join(dir, 'service.db'));
    const blobs = new FsStore(join(dir, 'blobs'));
    const app = await buildServer({ database, blobs });
    await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(async () => {
      await app.close();
      await database.close();
    });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const { id: subscriptionId, ownerKey } = await createSubscription(database.db, 'downloads', new Date());
    const owner = new ServiceClient(url, { ownerKey });
    const vault = await owner.request('ensureVault', { params: { subscriptionId, vaultName: 'main' } });
    const certificate = await createSelfSignedCertificate('big', 30);
    const application = await owner.createApplication(subscriptionId, { name: 'big', certificate: certificate.certificatePem });
    const server = await owner.request('registerServer', {
      params: { subscriptionId, vaultName: 'main' },
      body: { name: 'big', applicationId: application.id },
    });
    const data = randomBytes(BLOB);
    await blobs.put(`vaults/${vault.id}/servers/${server.id}/data/ab/big`, data);
    const blobUrl = url + routePath(routes.getBlob, { subscriptionId, vaultName: 'main', serverId: server.id, '*': 'data/ab/big' });

    const baseline = process.memoryUsage().arrayBuffers;
    const downloads = Array.from({ length: CLIENTS }, () => slowDownload(blobUrl, { authorization: `OwnerKey ${ownerKey}` }));
    await Promise.all(downloads.map((d) => d.started));
    // A service that read the blob whole would hold it once per client by now, the clients stalled or not.
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      await sleep(25);
    }
    t.diagnostic(`buffers held while ${CLIENTS} downloads of ${BLOB >> 20} MiB stall: ${(peak / 1048576).toFixed(1)} MiB`);
    assert.ok(peak < 96 * 1024 * 1024, `the service held ${(peak / 1048576).toFixed(0)} MiB for ${CLIENTS} stalled downloads`);
    const expected = createHash('sha256').update(data).digest('hex');
    for (const answer of await Promise.all(downloads.map((d) => d.finish()))) assert.deepEqual(answer, { status: 200, length: BLOB, sha256: expected });
  });
});
