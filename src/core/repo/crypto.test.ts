import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isDriveseedError } from '../errors.js';
import { NONCE_LENGTH, open, seal, SEAL_OVERHEAD, sealInto } from './crypto.js';

const key = randomBytes(32);
const aad = Buffer.from('aad');

describe('seal', () => {
  it('gives every message its own nonce, across batches of pooled nonces', () => {
    const nonces = new Set<string>();
    const out = Buffer.alloc(5000 * (SEAL_OVERHEAD + 8));
    let at = 0;
    for (let i = 0; i < 5000; i++) {
      const plaintext = Buffer.from(`message${i % 10}`.slice(0, 8));
      const sealed = i % 2 ? seal(key, plaintext, aad) : out.subarray(at, at + sealInto(key, plaintext, aad, out, at));
      at += i % 2 ? 0 : sealed.length;
      nonces.add(sealed.subarray(0, NONCE_LENGTH).toString('hex'));
      assert.deepEqual(open(key, sealed, aad, 'm'), plaintext);
    }
    assert.equal(nonces.size, 5000);
  });

  it('refuses a message whose nonce was changed', () => {
    const sealed = seal(key, Buffer.from('payload'), aad);
    sealed[0] ^= 1;
    assert.throws(
      () => open(key, sealed, aad, 'm'),
      (e) => isDriveseedError(e) && e.code === 'CORRUPT',
    );
  });
});
