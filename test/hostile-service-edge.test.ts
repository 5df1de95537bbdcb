import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signClientAssertion } from '../src/core/certificates/certificates.js';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { CLIENT_ASSERTION_TYPE } from '../src/api/contract.js';
import { cli, tempDir } from './cli-harness.js';
import { assertOneLine, startHostileSetting, type HostileSetting } from './hostile-service-harness.js';

/** Posts a client assertion made out to `audience`, with the Host header the client chose. */
async function exchange(setting: HostileSetting, audience: string, host?: string): Promise<{ status: number; body: string }> {
  const { url, attacker } = setting;
  const certificate = await createSelfSignedCertificate('audience', 30);
  const app = await attacker.client.createApplication(attacker.subscriptionId, {
    name: `audience-${Math.random().toString(36).slice(2)}`,
    certificate: certificate.certificatePem,
  });
  const assertion = await signClientAssertion(app.id, audience, certificate);
  // fetch will not send a Host of the caller's choosing; node:http will, as any attacker's client does.
  const { request } = await import('node:http');
  const body = JSON.stringify({
    grant_type: 'client_credentials',
    client_id: app.id,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
  });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...(host ? { host } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hostile clients at the edge: audiences, ranges, damaged key files', () => {
  it('without --trust-proxy, the Host header does not decide the token audience: an assertion made for another service is refused', async (t) => {
    const setting = await startHostileSetting(t);
    const port = new URL(setting.url).port;
    // Captured from (or made for) another service, replayed here with that service's Host.
    const replayed = await exchange(setting, 'http://other-service.example/v1/token', 'other-service.example');
    assert.equal(replayed.status, 401, replayed.body);
    assert.match(JSON.parse(replayed.body).message, /client assertion is not valid/);
    // Made out to this service, by the address the connection reached, or localhost on loopback: accepted.
    assert.equal((await exchange(setting, `${setting.url}/v1/token`)).status, 200);
    assert.equal((await exchange(setting, `http://localhost:${port}/v1/token`, `localhost:${port}`)).status, 200);
    assert.equal(await setting.health(), 200);
  });

  it('with --public-url, tokens are for that address alone, whatever Host says', async (t) => {
    const setting = await startHostileSetting(t, { publicUrl: 'https://backup.example.com/' });
    const accepted = await exchange(setting, 'https://backup.example.com/v1/token');
    assert.equal(accepted.status, 200, accepted.body);
    assert.equal((await exchange(setting, `${setting.url}/v1/token`)).status, 401, 'the listening address is not the public one');
    assert.equal((await exchange(setting, 'http://other.example/v1/token', 'other.example')).status, 401);
    assert.equal(await setting.health(), 200);

    const dir = await tempDir(t, 'public-url-');
    for (const bad of ['backup.example.com', 'ftp://backup.example.com', 'https://backup.example.com/?x=1']) {
      const refused = cli(['service', 'start', '--data-dir', join(dir, 'svc'), '--listen', '127.0.0.1:0', '--public-url', bad]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(refused.stderr, /--public-url/);
    }
    assert.deepEqual(await readdir(dir), [], 'a bad --public-url is refused before the data directory is made');
  });

  it('answers a byte range past the end of a blob with a one-line 416, not 500', async (t) => {
    const { victim, dataDir, health } = await startHostileSetting(t);
    const put = await fetch(victim.blobUrl('locks/ten'), {
      method: 'PUT',
      headers: { ...victim.headers, 'content-type': 'application/octet-stream' },
      body: '0123456789',
    });
    assert.equal(put.status, 204);
    for (const range of ['bytes=100-200', 'bytes=5-10', 'bytes=10-10']) {
      const answer = await fetch(victim.blobUrl('locks/ten'), { headers: { ...victim.headers, range } });
      const text = await answer.text();
      assert.equal(answer.status, 416, `${range}: ${text}`);
      const body = JSON.parse(text) as { error: string; message: string };
      assert.equal(body.error, 'BAD_RANGE');
      assert.match(body.message, /past the end/);
      assertOneLine(body.message, dataDir);
    }
    const inside = await fetch(victim.blobUrl('locks/ten'), { headers: { ...victim.headers, range: 'bytes=5-9' } });
    assert.equal(inside.status, 206);
    assert.equal(await inside.text(), '56789');
    assert.equal(await health(), 200);
  });

  it('a flipped bit in the only key file is a one-line CORRUPT error from the CLI, not "unexpected error"', async (t) => {
    const dir = await tempDir(t, 'damaged-key-');
    const repo = join(dir, 'repo');
    assert.equal(cli(['init', '--repo', repo]).code, 0);
    const [keyName] = await readdir(join(repo, 'keys'));
    const keyPath = join(repo, 'keys', keyName!);
    const key = await readFile(keyPath, 'utf8');
    // "N": 32768 becomes 32769: not a power of two, which scrypt refuses deep inside.
    await writeFile(keyPath, key.replace(/"N": 32768/, '"N": 32769'));
    const r = cli(['snapshots', '--repo', repo]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /key file is damaged \(N\)/);
    assert.doesNotMatch(r.stderr, /unexpected/);
  });
});
