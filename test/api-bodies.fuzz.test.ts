import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { routePath, routes } from '../src/api/routes.js';
import { contentMatchesId, fileId } from '../src/core/repo/ids.js';
import { expectedContentHash } from '../src/core/repo/layout.js';
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

/** One request by node:http, whose path goes out as given: no URL normalization of `..` or `%`, as an attacker's client sends it. */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
  chunked = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, {
      method,
      headers: { ...headers, ...(body && !chunked ? { 'content-length': String(body.length) } : {}) },
      signal: AbortSignal.timeout(5000),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Bytes as a path or query: unreserved characters and the delimiters as they are, everything
 * else %-escaped. So raw `..`, `%zz`, `%ff` (not UTF-8) and `%00` reach the router and the
 * query parser, which is what a crafted request holds.
 */
function asUrlText(bytes: Buffer): string {
  let out = '';
  for (const b of bytes)
    out += /[A-Za-z0-9\-._~/%?&=+*:@!$'(),;]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** A blob name as the service decodes it from the path (one that does not decode stays as sent). */
function decodedName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The API's ErrorBody on a refusal: { error: CODE, message (one line) }. */
function assertErrorBody(status: number, text: string, where: string): string {
  let error: { error?: unknown; message?: unknown } = {};
  try {
    error = JSON.parse(text) as typeof error;
  } catch {
    assert.fail(`${status} with a body that is not JSON (${text.slice(0, 200)}) for ${where}`);
  }
  assert.ok(
    typeof error.error === 'string' && typeof error.message === 'string' && !/[\r\n]/.test(error.message),
    `${status} ${text.slice(0, 300)} for ${where}`,
  );
  return `${status} ${String(error.error)}`;
}

it("fuzz: query strings and path parameters are answered 2xx or 4xx with a JSON error, never with another tenant's data", async (t) => {
  const setting = await startHostileSetting(t);
  const { attacker, victim } = setting;
  // Something of the victim's for a crafted path or prefix to find: it must never show up.
  const secret = `keys/victim-${randomBytes(6).toString('hex')}`;
  assert.equal(
    (
      await rawRequest(
        setting.url,
        'PUT',
        new URL(victim.blobUrl(secret)).pathname,
        { ...victim.headers, 'content-type': 'application/octet-stream' },
        Buffer.from('{}'),
      )
    ).status,
    204,
  );
  const mine = `keys/attacker-${randomBytes(6).toString('hex')}`;
  await rawRequest(
    setting.url,
    'PUT',
    new URL(attacker.blobUrl(mine)).pathname,
    { ...attacker.headers, 'content-type': 'application/octet-stream' },
    Buffer.from('{}'),
  );
  const params = {
    subscriptionId: attacker.subscriptionId,
    vaultName: 'main',
    serverId: attacker.serverId,
    applicationId: randomUUID(),
    thumbprint: randomBytes(32).toString('hex'),
    jobId: randomUUID(),
    jobName: 'no-such-job',
    account: 'fuzzacct',
    container: 'seed',
    driveId: randomUUID(),
    '*': mine,
  };
  // Routes that read (and the attacker's own deletes): every path parameter and query string the API has.
  const shapes: [keyof typeof routes, Record<string, string>][] = [
    ['listBlobs', { prefix: 'keys/' }],
    ['listContainerBlobs', { prefix: '' }],
    ['getBlob', {}],
    ['headBlob', {}],
    ['deleteBlob', {}],
    ['listApplications', { name: 'app' }],
    ['getApplication', {}],
    ['revokeCertificate', {}],
    ['listServers', { name: 'attacker' }],
    ['serverStatus', {}],
    ['overview', {}],
    ['listImportJobs', {}],
    ['getImportJob', {}],
    ['driveLogs', {}],
    ['getStorageAccount', {}],
    ['listBackupJobs', { state: 'Completed', serverId: attacker.serverId, limit: '10' }],
    ['getBackupJob', {}],
    ['whoami', {}],
  ];
  const known = shapes;
  const paramNames = (path: string) => [...path.matchAll(/:(\w+)|\*$/g)].map((m) => m[1] ?? '*');
  const samples = known.map(([name, query], i) => {
    const spec = routes[name];
    return Buffer.from(
      JSON.stringify({ route: i, params: Object.fromEntries(paramNames(spec.path).map((p) => [p, params[p as keyof typeof params]])), query }),
    );
  });
  // Found by this fuzzer: a server id with a newline came back in the error message, two lines.
  samples.push(Buffer.from(JSON.stringify({ route: known.findIndex(([name]) => name === 'deleteBlob'), params: { ...params, serverId: '\n' }, query: {} })));
  const text = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  let sent = 0;
  await fuzzAsync(
    {
      name: 'api paths and queries',
      samples,
      run: async (input) => {
        // An input that still reads as {route, params, query} fills that route's path and query; any other is a raw suffix.
        let route = input.length % known.length;
        let path: string;
        let parsed: { route?: unknown; params?: unknown; query?: unknown } | undefined;
        try {
          parsed = JSON.parse(input.toString('utf8')) as typeof parsed;
        } catch {
          parsed = undefined;
        }
        if (parsed && typeof parsed === 'object') {
          if (Number.isSafeInteger(parsed.route)) route = Math.abs(parsed.route as number) % known.length;
          const given = (parsed.params && typeof parsed.params === 'object' ? parsed.params : {}) as Record<string, unknown>;
          const spec = routes[known[route]![0]];
          path = spec.path.replace(/:(\w+)|\*$/g, (_token: string, name: string | undefined) => {
            const value = text(given[name ?? '*'] ?? params[(name ?? '*') as keyof typeof params]);
            return name ? encodeURIComponent(value) : value.split('/').map(encodeURIComponent).join('/');
          });
          const query = parsed.query && typeof parsed.query === 'object' ? (parsed.query as Record<string, unknown>) : {};
          const search = Object.entries(query).flatMap(([key, value]) =>
            (Array.isArray(value) ? value : [value]).map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(text(v))}`),
          );
          if (search.length > 0) path += `?${search.join('&')}`;
        } else {
          const spec = routes[known[route]![0]];
          path = routePath(spec, params).replace(/[^/]*$/, '') + asUrlText(input);
        }
        const spec = routes[known[route]![0]];
        const where = `${spec.method} ${path.slice(0, 300)}`;
        const answer = await rawRequest(setting.url, spec.method, path, attacker.headers);
        assert.ok(answer.status < 500, `${answer.status} ${answer.text.slice(0, 300)} for ${where}`);
        assert.ok(!answer.text.includes(secret) && !answer.text.includes(victim.serverId), `the victim's data answered ${where}: ${answer.text.slice(0, 300)}`);
        if (++sent % 50 === 0) assert.equal(await setting.health(), 200, `/health after ${where}`);
        if (answer.status < 300) return '2xx';
        if (spec.method === 'HEAD') return `${answer.status} HEAD`;
        return assertErrorBody(answer.status, answer.text, where);
      },
    },
    { runs: 300 },
  );
  // The victim's blob is still there and still its own.
  assert.equal((await rawRequest(setting.url, 'GET', new URL(victim.blobUrl(secret)).pathname, victim.headers)).text, '{}');
  assert.equal(await setting.health(), 200);
});

it('fuzz: blob uploads with crafted names and bodies are stored whole and as named, or refused with nothing stored', async (t) => {
  const setting = await startHostileSetting(t);
  const { attacker } = setting;
  const body = (n: number) => randomBytes(n);
  const named = (prefix: string, bytes: Buffer, scheme: 'blake3' | 'sha256' = 'blake3') => {
    const id = fileId(bytes, scheme);
    return prefix === 'data' ? `data/${id.slice(0, 2)}/${id}` : `${prefix}/${id}`;
  };
  // name ‖ "\n" ‖ body: content-addressed names that match their bytes, locks and keys, the config.
  const valid: [string, Buffer][] = [];
  for (const bytes of [body(1000), body(70_000)]) valid.push([named('data', bytes), bytes]);
  const index = body(300);
  valid.push([named('index', index, 'sha256'), index]);
  const snapshot = body(200);
  valid.push([named('snapshots', snapshot), snapshot]);
  valid.push([`locks/${randomBytes(32).toString('hex')}`, body(100)]);
  valid.push([`keys/${randomBytes(32).toString('hex')}`, body(400)]);
  valid.push(['config', Buffer.from('{"format":"driveseed-repository","version":2}')]);
  const samples = valid.map(([name, bytes]) => Buffer.concat([Buffer.from(`${name}\n`), bytes]));
  // Found by this fuzzer: `data`, a folder of the other names, answered 500 to PUT and GET.
  samples.push(Buffer.from('data\n'), Buffer.from(`${valid[0]![0]}/x\nthrough a blob`));
  const stored = new Map<string, Buffer>();
  await fuzzAsync(
    {
      name: 'api blob bodies',
      samples,
      maxLength: 80_000,
      run: async (input) => {
        const cut = input.indexOf(0x0a);
        const name = cut < 0 ? input.toString('latin1') : input.subarray(0, cut).toString('latin1');
        const bytes = cut < 0 ? Buffer.alloc(0) : input.subarray(cut + 1);
        const path = new URL(attacker.blobUrl('x')).pathname.replace(/x$/, '') + asUrlText(Buffer.from(name, 'latin1'));
        const where = `PUT ${path.slice(0, 200)} with ${describeInput(bytes)}`;
        // Every other upload is chunked: the budget then takes bytes as they come, with no declared length.
        const put = await rawRequest(
          setting.url,
          'PUT',
          path,
          { ...attacker.headers, 'content-type': 'application/octet-stream' },
          bytes,
          input.length % 2 === 1,
        );
        assert.ok(put.status < 500, `${put.status} ${put.text.slice(0, 300)} for ${where}`);
        const got = await rawRequest(setting.url, 'GET', path, attacker.headers);
        assert.ok(got.status < 500, `${got.status} ${got.text.slice(0, 300)} reading back ${where}`);
        if (put.status < 300) {
          // Stored whole, under the name it was sent to, and a content-addressed name holds its content.
          assert.equal(got.status, 200, `${where}: stored, then ${got.status}`);
          const hashed = expectedContentHash(decodedName(path.split('/blobs/')[1]!));
          if (hashed) assert.ok(contentMatchesId(bytes, hashed), `${where}: stored although it does not match its name`);
          stored.set(path, Buffer.from(bytes));
          return '2xx';
        }
        // Refused: nothing of it was stored (what is there, if anything, is an earlier upload, unchanged).
        const before = stored.get(path);
        if (before) assert.equal(got.text, before.toString('utf8'), `${where}: refused, yet the stored blob changed`);
        else assert.ok(got.status === 404 || got.status === 400, `${where}: refused, yet reading it back gave ${got.status} ${got.text.slice(0, 200)}`);
        return assertErrorBody(put.status, put.text, where);
      },
    },
    { runs: 200 },
  );
  assert.equal(await setting.health(), 200);
});
