import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { DirectVaultStore } from '../src/client/agent/direct-vault-store.js';
import { PackGrants } from '../src/client/agent/pack-grants.js';
import { ServiceClient, type CallOf } from '../src/api/service-client.js';
import { routePath, routes, type AnswerOf, type JsonRouteName, type Routes } from '../src/api/routes.js';
import { VaultStore } from '../src/client/agent/vault-store.js';
import { isDriveseedError } from '../src/core/errors.js';
import type { BackupJob, BlobGrantRequest } from '../src/api/schemas.js';
import { openDatabase, type OpenedDatabase } from '../src/service/db/open-database.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { buildServer } from '../src/service/server.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { putWithSignedUrl } from '../src/core/storage/azure/signed-blob.js';
import { startAzurite, type Azurite } from '../src/testing/azurite.js';

const GRANT_SECONDS = 4;

/** A pack-shaped name whose hash is its content's, as the engine makes them. */
function pack(bytes = randomBytes(2000)): { name: string; bytes: Buffer } {
  const id = createHash('sha256').update(bytes).digest('hex');
  return { name: `data/${id.slice(0, 2)}/${id}`, bytes };
}

const rejectsWith = (promise: Promise<unknown>, code: string, message?: RegExp) =>
  assert.rejects(promise, (e: unknown) => isDriveseedError(e) && e.code === code && (!message || message.test(e.message)));

/**
 * Direct pack transfer (signed URLs the service issues for Azure Blob Storage), run against
 * each database the service supports: who may get a URL, for which blob, for how long.
 */
export function directSuite(name: string, databaseUrl: (dir: string) => Promise<string>): void {
  describe(`direct pack transfer on ${name} and Azurite`, () => {
    let dir: string;
    let azurite: Azurite;
    let database: OpenedDatabase;
    let app: FastifyInstance;
    let url: string;
    let blobs: AzureStore;
    /** The service's clock runs offset from real time by this much. */
    let offset = 0;
    let subscriptionId: string;
    let owner: ServiceClient;
    let ownerKey: string;
    let vaultId: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'direct-'));
      azurite = await startAzurite();
      database = await openDatabase(await databaseUrl(dir));
      blobs = AzureStore.fromConnectionString(azurite.connectionString, 'vaults');
      app = await buildServer({ database, blobs, now: () => new Date(Date.now() + offset), blobGrantSeconds: GRANT_SECONDS });
      await app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const sub = await createSubscription(database.db, 'direct', new Date());
      subscriptionId = sub.id;
      ownerKey = sub.ownerKey;
      owner = new ServiceClient(url, { ownerKey });
      vaultId = (await owner.request('ensureVault', { params: { subscriptionId, vaultName: 'main' } })).id;
    });
    after(async () => {
      await app.close();
      await database.close();
      await azurite.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** A server registered to an application of its own, as `agent register` leaves it. */
    async function newServer(serverName: string) {
      const certificate = await createSelfSignedCertificate(serverName, 30);
      const application = await owner.createApplication(subscriptionId, { name: serverName, certificate: certificate.certificatePem });
      const server = await owner.request('registerServer', {
        params: { subscriptionId, vaultName: 'main' },
        body: { name: serverName, applicationId: application.id },
      });
      const credentials = { applicationId: application.id, certificate };
      const client = new ServiceClient(url, credentials);
      const params = { subscriptionId, vaultName: 'main', serverId: server.id };
      const grants = (access: 'create' | 'read', names: string[], as = client) => as.request('grantBlobAccess', { params, body: { access, names } });
      const startJob = () => client.request('startJob', { params, body: { kind: 'online' } });
      const failJob = (job: BackupJob) =>
        client.request('finishJob', {
          params: { ...params, jobId: job.id },
          body: { state: 'Failed', filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0, error: 'test' },
        });
      const viaService = new VaultStore(client, subscriptionId, 'main', server.id);
      return { server, client, credentials, params, grants, startJob, failJob, viaService };
    }

    it('create URLs for its own packs, only while one of its jobs runs; they land in its folder', async () => {
      const a = await newServer('grant-own');
      const p = pack();
      await rejectsWith(a.grants('create', [p.name]), 'CONFLICT', /only while a backup job/);
      const job = await a.startJob();
      const answer = await a.grants('create', [p.name]);
      assert.equal(answer.direct, true);
      assert.equal(answer.expiresIn, GRANT_SECONDS);
      assert.equal(answer.grants.length, 1);
      assert.match(new URL(answer.grants[0].url).pathname, new RegExp(`/vaults/vaults/${vaultId}/servers/${a.server.id}/${p.name}$`));
      assert.match(answer.grants[0].url, /sp=c&/, 'create only: no write-over, read, delete or list');
      await putWithSignedUrl(answer.grants[0].url, p.bytes);
      assert.deepEqual(await a.viaService.get(p.name), p.bytes, "the service finds it in the server's repository");
      await a.failJob(job);
      await rejectsWith(a.grants('create', [pack().name]), 'CONFLICT');
    });

    it('no URL for another server, another subscription or no credentials; a URL bent to another folder is refused', async () => {
      const a = await newServer('victim');
      const b = await newServer('intruder');
      await a.startJob();
      await b.startJob();
      await rejectsWith(a.grants('create', [pack().name], b.client), 'FORBIDDEN', /not the one registered/);
      const other = await createSubscription(database.db, 'elsewhere', new Date());
      await rejectsWith(a.grants('read', [pack().name], new ServiceClient(url, { ownerKey: other.ownerKey })), 'FORBIDDEN', /another subscription/);
      const anonymous = await fetch(url + routePath(routes.grantBlobAccess, a.params), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access: 'read', names: [pack().name] }),
      });
      assert.equal(anonymous.status, 401);
      // B's own URL, with A's folder in its path: the signature covers the blob's full name.
      const p = pack();
      const own = (await b.grants('create', [p.name])).grants[0].url;
      await rejectsWith(putWithSignedUrl(own.replace(`/servers/${b.server.id}/`, `/servers/${a.server.id}/`), p.bytes), 'FORBIDDEN');
      assert.equal(await a.viaService.exists(p.name), false);
    });

    it('only pack names, at most 64 a call: anything else is a 400 naming the field', async () => {
      const a = await newServer('names');
      await a.startJob();
      for (const names of [['config'], [`index/${pack().name.slice(8)}`], ['data/ab/../../other'], ['keys/x'], []]) {
        const response = await fetch(url + routePath(routes.grantBlobAccess, a.params), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `OwnerKey ${ownerKey}` },
          body: JSON.stringify({ access: 'create', names }),
        });
        assert.equal(response.status, 400, JSON.stringify(names));
        assert.match((await response.json()).field ?? '', /^names/);
      }
      await rejectsWith(
        a.grants(
          'read',
          Array.from({ length: 65 }, () => pack().name),
        ),
        'USAGE',
        /names/,
      );
      const refusedAccess = { access: 'delete', names: [pack().name] } as unknown as BlobGrantRequest;
      await rejectsWith(a.client.request('grantBlobAccess', { params: a.params, body: refusedAccess }), 'USAGE', /access/);
    });

    it('read URLs read its packs; a second create URL cannot overwrite one', async () => {
      const a = await newServer('reader');
      await a.startJob();
      const p = pack();
      await putWithSignedUrl((await a.grants('create', [p.name])).grants[0].url, p.bytes);
      await rejectsWith(putWithSignedUrl((await a.grants('create', [p.name])).grants[0].url, randomBytes(2000)), 'CONFLICT');
      const store = new DirectVaultStore(a.viaService, new PackGrants(a.client, a.params), { sent: 0, received: 0 });
      assert.deepEqual(await store.get(p.name), p.bytes);
      assert.deepEqual(await store.get(p.name, { offset: 10, length: 20 }), p.bytes.subarray(10, 30));
      // The agent's own retry of a pack already there: read back, checked, kept.
      await store.put(p.name, p.bytes);
      // A pack whose stored bytes do not match its name is replaced through the service, which checks them.
      const damaged = pack();
      await blobs.put(`vaults/${vaultId}/servers/${a.server.id}/${damaged.name}`, randomBytes(2000));
      await store.put(damaged.name, damaged.bytes);
      assert.deepEqual(await a.viaService.get(damaged.name), damaged.bytes);
    });

    it('through the service: a pack sent in parts is stored whole; one that does not match its name is refused and not stored', async () => {
      const a = await newServer('via-service');
      const p = pack(randomBytes(300_000));
      await a.viaService.put(p.name, [p.bytes.subarray(0, 1), p.bytes.subarray(1, 200_000), p.bytes.subarray(200_000)]);
      assert.deepEqual(await a.viaService.get(p.name), p.bytes);
      assert.deepEqual(await a.viaService.get(p.name, { offset: 199_990, length: 20 }), p.bytes.subarray(199_990, 200_010));
      const wrong = pack();
      await rejectsWith(a.viaService.put(wrong.name, randomBytes(2000)), 'USAGE', /content does not match its name \(field body\)$/);
      await rejectsWith(a.viaService.stat(wrong.name), 'NOT_FOUND');
    });

    it('an expired URL is refused; the agent asks again, and fails clearly when the fresh one is refused too', async () => {
      const a = await newServer('expiry');
      await a.startJob();
      let grantCalls = 0;
      /** The agent's client, with the service's clock put back to right after the first grant. */
      class CountingClient extends ServiceClient {
        override async request<N extends JsonRouteName>(name: N, call: CallOf<N>): Promise<AnswerOf<Routes[N]>> {
          const answer = await super.request(name, call);
          if (name === 'grantBlobAccess') {
            grantCalls++;
            if (resetAfterFirst) offset = 0;
          }
          return answer;
        }
      }
      let resetAfterFirst = true;
      const client = new CountingClient(url, a.credentials);
      await client.whoami(subscriptionId);
      const store = new DirectVaultStore(a.viaService, new PackGrants(client, a.params), { sent: 0, received: 0 });
      const p = pack();
      offset = -(GRANT_SECONDS + 120) * 1000;
      await store.put(p.name, p.bytes);
      assert.equal(grantCalls, 2, 'asked again after the refusal');
      assert.deepEqual(await a.viaService.get(p.name), p.bytes);

      resetAfterFirst = false;
      offset = -(GRANT_SECONDS + 120) * 1000;
      try {
        await rejectsWith(store.put(pack().name, randomBytes(100)), 'FORBIDDEN', /twice, with a fresh grant/);
      } finally {
        offset = 0;
      }

      // A cached read grant is renewed before it runs out.
      grantCalls = 0;
      assert.deepEqual(await store.get(p.name), p.bytes);
      assert.deepEqual(await store.get(p.name, { offset: 0, length: 5 }), p.bytes.subarray(0, 5));
      assert.equal(grantCalls, 1, 'one read grant serves both reads');
      await new Promise((resolve) => setTimeout(resolve, GRANT_SECONDS * 1000 * 0.8));
      await store.get(p.name, { offset: 5, length: 5 });
      assert.equal(grantCalls, 2, 'renewed before it expired');
    });

    it('parallel requests go as one call', async () => {
      const a = await newServer('batched');
      await a.startJob();
      const packs = Array.from({ length: 10 }, () => pack());
      let calls = 0;
      const client = new (class extends ServiceClient {
        override async request<N extends JsonRouteName>(name: N, call: CallOf<N>): Promise<AnswerOf<Routes[N]>> {
          if (name === 'grantBlobAccess') calls++;
          return super.request(name, call);
        }
      })(url, a.credentials);
      const store = new DirectVaultStore(a.viaService, new PackGrants(client, a.params), { sent: 0, received: 0 });
      await Promise.all(packs.map((p) => store.put(p.name, p.bytes)));
      assert.equal(calls, 1);
      for (const p of packs) assert.deepEqual(await a.viaService.get(p.name), p.bytes);
    });
  });
}
