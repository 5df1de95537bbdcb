import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress, parseWebhookUrl, resolveWebhook } from './webhook-address.js';
import { signWebhook } from './webhook-sender.js';
import { createHmac } from 'node:crypto';

describe('webhook addresses', () => {
  it('tells public addresses from loopback, private, link-local, shared and reserved ones, v4, v6 and v4 mapped into v6', () => {
    for (const inside of [
      '127.0.0.1',
      '127.9.9.9',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      'ff02::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      '64:ff9b::a00:1',
      'not-an-ip',
    ])
      assert.equal(isPublicAddress(inside), false, inside);
    for (const outside of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(isPublicAddress(outside), true, outside);
  });

  it('takes http(s) URLs without credentials only', () => {
    assert.equal(parseWebhookUrl('https://hooks.example.org/a?b=1').hostname, 'hooks.example.org');
    assert.throws(() => parseWebhookUrl('file:///etc/passwd'), /http:\/\/ or https:\/\//);
    assert.throws(() => parseWebhookUrl('gopher://x/'), /not gopher:/);
    assert.throws(() => parseWebhookUrl('https://a:b@example.org/'), /no user or password/);
    assert.throws(() => parseWebhookUrl(`https://example.org/${'a'.repeat(2000)}`), /at most 2000/);
  });

  it('resolves a name and refuses it when any of its addresses is inside, unless allowed', async () => {
    await assert.rejects(resolveWebhook('http://localhost/x', false), /loopback, private or link-local/);
    const allowed = await resolveWebhook('http://127.0.0.1:8080/x', true);
    assert.equal(allowed.address, '127.0.0.1');
    // (No lookup of a made-up name: the tests send no query past this machine's own hosts file.)
  });

  it('signs `t.body` with HMAC-SHA256, as docs/alerts.md says', () => {
    const body = '{"id":"d1"}';
    const expected = createHmac('sha256', 'whsec_k').update(`1700000000.${body}`).digest('hex');
    assert.equal(signWebhook('whsec_k', 1700000000, body), `t=1700000000,v1=${expected}`);
  });
});
