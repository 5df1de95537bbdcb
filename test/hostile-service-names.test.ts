import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routePath, routes } from '../src/api/routes.js';
import { assertOneLine, startHostileSetting } from './hostile-service-harness.js';

/**
 * A tenant with valid credentials asks the listing routes for prefixes that are paths. On
 * main, `?prefix=../../../` listed another tenant's vault, `../../../../../bootstrap` found
 * the service's bootstrap file, and deeper ones walked the host. Each must be a 400 of one
 * line that names no host path, list nothing, and leave the service answering /health.
 */
const PATH_PREFIXES = [
  '../',
  '../../../',
  '../../../../../bootstrap',
  '../../../../../../../../../../etc/',
  '/etc/',
  '/',
  'config/../../',
  'data//',
  './',
  'data/./',
  '%2e%2e/', // sent encoded once more: arrives as the literal %2e%2e/, which no name has
];

describe('hostile tenants: a listing prefix is a name prefix, never a path', () => {
  it('refuses path prefixes on a server listing with one line, lists nothing of another tenant or the host, and keeps serving', async (t) => {
    const { victim, attacker, dataDir, health } = await startHostileSetting(t);
    const secret = Buffer.from('the victim’s lock, which the attacker must not see');
    const put = await fetch(victim.blobUrl('locks/victim-lock'), {
      method: 'PUT',
      headers: { ...victim.headers, 'content-type': 'application/octet-stream' },
      body: secret,
    });
    assert.equal(put.status, 204);

    for (const prefix of PATH_PREFIXES) {
      const answer = await fetch(attacker.listUrl({ prefix }), { headers: attacker.headers });
      const text = await answer.text();
      assert.equal(answer.status, 400, `${prefix}: ${text}`);
      const body = JSON.parse(text) as { error: string; message: string; field?: string };
      assert.equal(body.error, 'BAD_REQUEST');
      assert.equal(body.field, 'prefix');
      assert.match(body.message, /invalid blob prefix .*never a path/);
      assertOneLine(body.message, dataDir);
      assert.ok(!text.includes('victim-lock') && !text.includes('bootstrap.json') && !text.includes('passwd'), `${prefix} leaked: ${text}`);
      assert.equal(await health(), 200);
    }

    // Name prefixes still list, the partial last segment included.
    const own = await fetch(victim.listUrl({ prefix: 'locks/vic' }), { headers: victim.headers });
    assert.deepEqual(await own.json(), { blobs: [{ name: 'locks/victim-lock', size: secret.length }] });
    const none = await fetch(attacker.listUrl({ prefix: 'locks/' }), { headers: attacker.headers });
    assert.deepEqual(await none.json(), { blobs: [] });
  });

  it('refuses path prefixes on a storage-account container listing the same way', async (t) => {
    const { url, attacker, dataDir, health } = await startHostileSetting(t);
    const { subscriptionId } = attacker;
    await attacker.client.request('ensureStorageAccount', { params: { subscriptionId, account: 'attackeracct' } });
    await attacker.client.request('ensureContainer', { params: { subscriptionId, account: 'attackeracct', container: 'seed' } });
    const params = { subscriptionId, account: 'attackeracct', container: 'seed' };
    for (const prefix of ['../../../', '../../../../vaults/', '../../../../../bootstrap', '/etc/']) {
      const answer = await fetch(url + routePath(routes.listContainerBlobs, params, { prefix }), { headers: attacker.headers });
      const body = (await answer.json()) as { error: string; message: string };
      assert.equal(answer.status, 400, prefix);
      assert.match(body.message, /invalid blob prefix/);
      assertOneLine(body.message, dataDir);
    }
    const fine = await fetch(url + routePath(routes.listContainerBlobs, params, { prefix: 'data/' }), { headers: attacker.headers });
    assert.deepEqual(await fine.json(), { blobs: [] });
    assert.equal(await health(), 200);
  });
});
