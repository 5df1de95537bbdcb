import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { routePath, routes } from '../src/api/routes.js';
import { fuzzAsync, describeInput } from '../src/testing/fuzz.js';
import { startHostileSetting } from './hostile-service-harness.js';

/*
 * The API's request bodies as the service validates them (its TypeBox schemas, src/api/schemas.ts):
 * fuzzed JSON goes to a real in-process service, whose only allowed answers are a 2xx or a 4xx
 * with a one-line JSON error, never a 5xx; /health answers throughout.
 */
it('fuzz: every request body the API takes is answered 2xx or 4xx with a JSON error, and /health stays up', async (t) => {
  const setting = await startHostileSetting(t);
  const tenant = setting.attacker;
  const params = { subscriptionId: tenant.subscriptionId, vaultName: 'main', serverId: tenant.serverId, jobId: randomUUID(), jobName: 'no-such-job' };
  const hex = (n: number) => randomBytes(n).toString('hex');
  const pack = hex(32);
  // A valid body per route (as far as a body alone can be): mutations of these reach each schema's inner checks.
  const bodies: [keyof typeof routes, unknown][] = [
    [
      'token',
      {
        grant_type: 'client_credentials',
        client_id: randomUUID(),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'a'.repeat(40),
      },
    ],
    ['registerServer', { name: 'fuzzed', applicationId: randomUUID() }],
    ['setPolicy', { paths: ['/srv/data'], schedule: '0 2 * * *' }],
    ['startJob', { kind: 'online' }],
    ['finishJob', { state: 'Completed', filesNew: 1, filesChanged: 0, filesUnchanged: 0, bytesRead: 10 }],
    ['reportProgress', { files: 1, bytes: 2, errors: 0, sent: 3 }],
    ['grantBlobAccess', { access: 'read', names: [`data/${pack.slice(0, 2)}/${pack}`] }],
    [
      'createImportJob',
      {
        name: 'fuzz-job',
        storageAccount: 'fuzzacct',
        container: 'seed',
        drives: [{ driveId: randomUUID(), key: randomBytes(32).toString('base64'), manifestSha256: hex(32), files: 1, bytes: 1 }],
      },
    ],
    ['setShipping', { carrier: 'UPS', trackingNumber: '1Z999', shipDate: '2026-12-01', contactName: 'A B', phone: '+1 555 0100' }],
    ['completeSeed', { importJob: 'no-such-job' }],
    ['settleWaitingJobs', { importJob: 'no-such-job', points: [] }],
    ['signIn', { key: 'not a key' }],
  ];
  const samples = bodies.map(([, body], i) => Buffer.from(JSON.stringify({ route: i, body })));
  let sent = 0;
  await fuzzAsync(
    {
      name: 'api bodies',
      samples,
      run: async (input) => {
        // An input that still reads as {route, body} goes to that route; any other is sent as it is.
        let route = input.length % bodies.length;
        let body: Buffer = input;
        try {
          const parsed = JSON.parse(input.toString('utf8')) as { route?: unknown; body?: unknown };
          if (Number.isSafeInteger(parsed.route)) route = Math.abs(parsed.route as number) % bodies.length;
          body = Buffer.from(JSON.stringify(parsed.body ?? null) ?? 'null');
        } catch {
          // raw bytes
        }
        const spec = routes[bodies[route]![0]];
        const response = await fetch(setting.url + routePath(spec, params), {
          method: spec.method,
          headers: { ...tenant.headers, 'content-type': 'application/json' },
          body: new Uint8Array(body),
          signal: AbortSignal.timeout(5000),
        });
        const text = await response.text();
        const where = `${spec.method} ${spec.path} with ${describeInput(body)}`;
        assert.ok(response.status < 500, `${response.status} ${text.slice(0, 300)} for ${where}`);
        if (++sent % 50 === 0) assert.equal(await setting.health(), 200, `/health after ${where}`);
        if (response.status < 300) return '2xx';
        // The API's ErrorBody: { error: CODE, message, hint?, field? }.
        const error = JSON.parse(text) as { error?: unknown; message?: unknown };
        assert.ok(
          typeof error.error === 'string' && typeof error.message === 'string' && !/[\r\n]/.test(error.message),
          `${response.status} ${text.slice(0, 300)} for ${where}`,
        );
        return `${response.status} ${String(error.error)}`;
      },
    },
    { runs: 300 },
  );
  assert.equal(await setting.health(), 200);
});
