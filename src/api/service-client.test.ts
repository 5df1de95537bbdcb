import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { isDriveseedError } from '../core/errors.js';
import { ServiceClient } from './service-client.js';

/** A stand-in for the service: each path answers with the status and body the test sets. */
const answers = new Map<string, { status: number; body: string }>();
const seen: { method: string; url: string; body: string }[] = [];

describe('the typed service client', () => {
  let server: Server;
  let client: ServiceClient;

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, body });
        const answer = answers.get(request.url!) ?? { status: 404, body: '{"error":"NOT_FOUND","message":"no such route"}' };
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new ServiceClient(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { ownerKey: 'dsok_test' });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the route's method to its path and returns the answer", async () => {
    answers.set('/v1/subscriptions/s1/import-jobs/seed-a/cancel', { status: 200, body: JSON.stringify(importJob('Canceled')) });
    const job = await client.request('cancelImportJob', { params: { subscriptionId: 's1', jobName: 'seed-a' } });
    assert.equal(job.state, 'Canceled');
    assert.deepEqual(seen.at(-1), { method: 'POST', url: '/v1/subscriptions/s1/import-jobs/seed-a/cancel', body: '' });
  });

  it("refuses an answer that does not match the route's response schema, naming the route", async () => {
    answers.set('/v1/subscriptions/s1/whoami', { status: 200, body: JSON.stringify({ subscriptionId: 's1', role: 'admin' }) });
    await assert.rejects(
      client.whoami('s1'),
      (e) => isDriveseedError(e, 'SERVICE') && /GET \/v1\/subscriptions\/s1\/whoami: .*does not match the API's whoami route \(\/role/.test(e.message),
    );
    answers.set('/v1/subscriptions/s1/whoami', { status: 200, body: '<html>a proxy</html>' });
    await assert.rejects(client.whoami('s1'), (e) => isDriveseedError(e, 'SERVICE') && /not JSON/.test(e.message));
  });

  it('turns an error answer into the code the service threw, with its field', async () => {
    answers.set('/v1/subscriptions/s1/import-jobs/seed-a/shipping', {
      status: 409,
      body: JSON.stringify({ error: 'CONFLICT', message: 'tracking number taken', field: 'trackingNumber' }),
    });
    const shipping = {
      carrier: 'DHL',
      trackingNumber: 'T-1',
      shipDate: '2026-01-01',
      contactName: 'A',
      phone: '+31 20 1234',
      email: 'a@b.nl',
      returnAddress: 'Dam 1',
      country: 'NL',
      postalCode: '1012',
    };
    await assert.rejects(
      client.request('setShipping', { params: { subscriptionId: 's1', jobName: 'seed-a' }, body: shipping }),
      (e) => isDriveseedError(e, 'CONFLICT') && e.field === 'trackingNumber',
    );
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), shipping, 'the body goes as JSON');
    answers.set('/v1/subscriptions/s1/storage-accounts', {
      status: 503,
      body: JSON.stringify({ error: 'STORAGE', message: 'internal error (STORAGE); see the service log' }),
    });
    await assert.rejects(client.request('listStorageAccounts', { params: { subscriptionId: 's1' } }), (e) => isDriveseedError(e, 'STORAGE'));
  });

  it('moves blobs as bytes, a 404 being an answer, not an error', async () => {
    answers.set('/v1/subscriptions/s1/vaults/main/servers/x/blobs/data/ab/cd', { status: 200, body: 'raw bytes' });
    const params = { subscriptionId: 's1', vaultName: 'main', serverId: 'x', '*': 'data/ab/cd' };
    assert.equal((await client.transfer('getBlob', { params, headers: { range: 'bytes=0-8' } })).body.toString(), 'raw bytes');
    assert.equal((await client.transfer('getBlob', { params: { ...params, '*': 'data/ab/ef' } })).status, 404);
  });
});

function importJob(state: string) {
  return { id: 'j1', name: 'seed-a', storageAccount: 'acct', container: 'seed', state, createdAt: 't', stateChangedAt: 't', drives: [] };
}
