import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { signClientAssertion, type CertificateWithKey } from '../src/core/certificates/certificates.js';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { ServiceClient } from '../src/api/service-client.js';
import { isDriveseedError } from '../src/core/errors.js';
import { startService, type RunningService } from '../src/service/start-service.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { CLIENT_ASSERTION_TYPE } from '../src/api/contract.js';

/** The identity and authorization rules, run against each database the service supports. */
export function identitySuite(name: string, databaseUrl: () => Promise<string | undefined>): void {
  describe(`service identity on ${name}`, () => {
    let service: RunningService;
    let dataDir: string;
    /** The service's clock runs offset from real time by this much; tests move it to reach expiries. */
    let offset = 0;
    let subscriptionId: string;
    let owner: ServiceClient;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'svc-'));
      service = await startService({ dataDir, listen: '127.0.0.1:0', db: await databaseUrl(), now: () => new Date(Date.now() + offset) });
      subscriptionId = service.bootstrap!.subscriptionId;
      owner = new ServiceClient(service.url, { ownerKey: service.bootstrap!.ownerKey });
    });
    after(async () => {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    async function newApp(appName: string, cert?: CertificateWithKey) {
      const certificate = cert ?? (await createSelfSignedCertificate(appName, 30));
      const app = await owner.createApplication(subscriptionId, { name: appName, certificate: certificate.certificatePem });
      return { app, certificate, client: new ServiceClient(service.url, { applicationId: app.id, certificate }) };
    }

    async function tokenRequest(body: unknown): Promise<Response> {
      return fetch(`${service.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    }

    const assertionBody = (appId: string, assertion: string) => ({
      grant_type: 'client_credentials',
      client_id: appId,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    });

    it('an application authenticates with its certificate and sees its own subscription', async () => {
      const { app, client } = await newApp('agent-one');
      assert.deepEqual(await client.whoami(subscriptionId), { subscriptionId, role: 'application', applicationId: app.id });
    });

    it('creating an application twice is a conflict that names the existing one', async () => {
      const { app } = await newApp('twice');
      const cert = await createSelfSignedCertificate('twice', 30);
      await assert.rejects(
        owner.createApplication(subscriptionId, { name: 'twice', certificate: cert.certificatePem }),
        (e) => isDriveseedError(e, 'CONFLICT') && (e as Error).message.includes(app.id),
      );
    });

    it("refuses requests without credentials (401) and with another subscription's (403)", async () => {
      const none = await fetch(`${service.url}/v1/subscriptions/${subscriptionId}/whoami`);
      assert.equal(none.status, 401);
      const other = await createSubscription(service.database.db, 'other', new Date());
      const otherOwner = new ServiceClient(service.url, { ownerKey: other.ownerKey });
      await assert.rejects(otherOwner.whoami(subscriptionId), (e) => isDriveseedError(e, 'FORBIDDEN'));
      const { client } = await newApp('scoped');
      await assert.rejects(client.whoami(other.id), (e) => isDriveseedError(e, 'FORBIDDEN'));
      // An application may not act as the owner.
      await assert.rejects(client.request('listApplications', { params: { subscriptionId } }), (e) => isDriveseedError(e, 'FORBIDDEN'));
      const badKey = new ServiceClient(service.url, { ownerKey: 'dsok_wrong' });
      await assert.rejects(badKey.whoami(subscriptionId), (e) => isDriveseedError(e, 'UNAUTHORIZED'));
    });

    /** Sends an upload's headers, promising 64 MiB, and never a byte of it: the status, if the service answers without the body. */
    function answerToHeadersAlone(path: string, headers: Record<string, string>, method = 'PUT'): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${service.url}${path}`, {
          method,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(64 << 20), ...headers },
        });
        const timer = setTimeout(() => reject(new Error(`${path}: no answer without the body`)), 5000);
        req.on('response', (response) => {
          clearTimeout(timer);
          response.resume();
          req.destroy();
          resolve(response.statusCode ?? 0);
        });
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
        req.flushHeaders();
      });
    }

    it('refuses an upload before reading its body: no credentials 401, another subscription 403; elsewhere 415', async () => {
      const blob = `/v1/subscriptions/${subscriptionId}/vaults/v1/servers/00000000-0000-4000-8000-000000000000/blobs/data/ab/${'ab'.repeat(32)}`;
      assert.equal(await answerToHeadersAlone(blob, {}), 401);
      const other = await createSubscription(service.database.db, 'other-uploads', new Date());
      assert.equal(await answerToHeadersAlone(blob, { authorization: `OwnerKey ${other.ownerKey}` }), 403);
      // Only the blob routes take raw bodies: anywhere else one is refused unread, credentials or not.
      assert.equal(await answerToHeadersAlone('/v1/token', {}, 'POST'), 415);
      assert.equal(
        await answerToHeadersAlone(`/v1/subscriptions/${subscriptionId}/vaults/v1`, { authorization: `OwnerKey ${service.bootstrap!.ownerKey}` }),
        415,
      );
    });

    it('refuses an assertion signed by an unknown certificate', async () => {
      const { app } = await newApp('unknown-cert');
      const stranger = await createSelfSignedCertificate('stranger', 30);
      const response = await tokenRequest(assertionBody(app.id, await signClientAssertion(app.id, `${service.url}/v1/token`, stranger)));
      assert.equal(response.status, 401);
      assert.match((await response.json()).message, /certificate this application does not have/);
    });

    it('refuses a revoked certificate, and a second certificate still works', async () => {
      const { app, certificate } = await newApp('revoked');
      const spare = await createSelfSignedCertificate('revoked-spare', 30);
      await owner.uploadCertificate(subscriptionId, app.id, { certificate: spare.certificatePem });
      await owner.request('revokeCertificate', { params: { subscriptionId, applicationId: app.id, thumbprint: certificate.thumbprint } });
      const response = await tokenRequest(assertionBody(app.id, await signClientAssertion(app.id, `${service.url}/v1/token`, certificate)));
      assert.equal(response.status, 401);
      assert.match((await response.json()).message, /revoked/);
      const viaSpare = new ServiceClient(service.url, { applicationId: app.id, certificate: spare });
      assert.equal((await viaSpare.whoami(subscriptionId)).applicationId, app.id);
    });

    it('refuses an expired certificate', async () => {
      const expired = await createSelfSignedCertificate('expired', 1, new Date(Date.now() - 5 * 86_400_000));
      const { app } = await newApp('expired', expired);
      const response = await tokenRequest(assertionBody(app.id, await signClientAssertion(app.id, `${service.url}/v1/token`, expired)));
      assert.equal(response.status, 401);
      assert.match((await response.json()).message, /certificate expired/);
    });

    it('refuses a replayed assertion, and one presented after it expired', async () => {
      const { app, certificate } = await newApp('replay');
      const assertion = await signClientAssertion(app.id, `${service.url}/v1/token`, certificate);
      assert.equal((await tokenRequest(assertionBody(app.id, assertion))).status, 200);
      const replay = await tokenRequest(assertionBody(app.id, assertion));
      assert.equal(replay.status, 401);
      assert.match((await replay.json()).message, /replay/);
      const late = await signClientAssertion(app.id, `${service.url}/v1/token`, certificate);
      offset += 10 * 60_000;
      try {
        const response = await tokenRequest(assertionBody(app.id, late));
        assert.equal(response.status, 401);
        assert.match((await response.json()).message, /expired/);
      } finally {
        offset -= 10 * 60_000;
      }
    });

    it('refuses an assertion addressed to another service', async () => {
      const { app, certificate } = await newApp('audience');
      const response = await tokenRequest(assertionBody(app.id, await signClientAssertion(app.id, 'http://elsewhere.example/v1/token', certificate)));
      assert.equal(response.status, 401);
    });

    it('refuses a bearer token after it expired', async () => {
      const { client } = await newApp('token-expiry');
      await client.whoami(subscriptionId);
      offset += 2 * 3600_000;
      try {
        await assert.rejects(client.whoami(subscriptionId), (e) => isDriveseedError(e, 'UNAUTHORIZED') && /expired/.test((e as Error).message));
      } finally {
        offset -= 2 * 3600_000;
      }
    });

    it('refuses a bearer token changed in one character, also after the genuine one was accepted', async () => {
      const { app, certificate } = await newApp('tampered-token');
      const assertion = await signClientAssertion(app.id, `${service.url}/v1/token`, certificate);
      const token: string = (await (await tokenRequest(assertionBody(app.id, assertion))).json()).access_token;
      const whoami = (bearer: string) => fetch(`${service.url}/v1/subscriptions/${subscriptionId}/whoami`, { headers: { authorization: `Bearer ${bearer}` } });
      assert.equal((await whoami(token)).status, 200);
      assert.equal((await whoami(token)).status, 200);
      const last = token.at(-2) === 'A' ? 'B' : 'A';
      for (const tampered of [token.slice(0, -2) + last + token.at(-1), token.replace('.', '.e'), `${token}x`]) {
        const response = await whoami(tampered);
        assert.equal(response.status, 401, tampered);
        assert.match((await response.json()).message, /not valid/);
      }
      assert.equal((await whoami(token)).status, 200);
    });

    it('answers a bad body with 400 naming the field, and changes nothing', async () => {
      const response = await fetch(`${service.url}/v1/subscriptions/${subscriptionId}/applications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `OwnerKey ${service.bootstrap!.ownerKey}` },
        body: JSON.stringify({ name: 'has spaces', certificate: 'x' }),
      });
      assert.equal(response.status, 400);
      const body = await response.json();
      assert.equal(body.error, 'BAD_REQUEST');
      assert.ok(body.field === 'name' || body.field === 'certificate', JSON.stringify(body));
      const list = await owner.request('listApplications', { params: { subscriptionId } });
      assert.ok(!list.applications.some((a) => a.name === 'has spaces'));
    });

    it('publishes its schemas as OpenAPI and reports health', async () => {
      const health = await (await fetch(`${service.url}/health`)).json();
      assert.equal(health.status, 'ok');
      const openapi = await (await fetch(`${service.url}/openapi.json`)).json();
      assert.ok(openapi.paths['/v1/token'].post);
      assert.ok(openapi.paths['/v1/subscriptions/{subscriptionId}/applications'].post.requestBody);
    });
  });
}
