import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../errors.js';
import { parseLinkSpeed, parseRate, parseSize } from './units.js';

describe('units', () => {
  it('parses rates', () => {
    assert.equal(parseRate('10M'), 10_000_000);
    assert.equal(parseRate('512KiB'), 524_288);
    assert.equal(parseRate('1.5MB/s'), 1_500_000);
    assert.equal(parseRate('100000B/s'), 100_000);
    // A bare number is ambiguous by a factor of a million (bytes? megabits?): refused.
    assert.throws(
      () => parseRate('100000'),
      (e) => isDriveseedError(e, 'USAGE') && /a rate needs a unit: "100000"/.test((e as Error).message),
    );
    assert.throws(() => parseRate('fast'), /not a rate/);
    assert.throws(() => parseRate('0'), /not a rate/);
  });

  it('parses link speeds in bits or bytes, and refuses a bare number as one', () => {
    assert.equal(parseLinkSpeed('20Mbit'), 2_500_000);
    assert.equal(parseLinkSpeed('2.5MB/s'), 2_500_000);
    assert.throws(
      () => parseLinkSpeed('20'),
      (e) => isDriveseedError(e, 'USAGE') && /a link speed needs a unit: "20"/.test((e as Error).message) && /20Mbit/.test((e as { hint?: string }).hint ?? ''),
    );
  });

  it('parses sizes, decimal and binary, and refuses a rate or nothing as one', () => {
    assert.equal(parseSize('64MiB'), 64 * 1024 ** 2);
    assert.equal(parseSize('500GB'), 500e9);
    assert.equal(parseSize('2T'), 2e12);
    assert.equal(parseSize(' 1.5 KiB '), 1536);
    for (const bad of ['10MB/s', 'big', '0', '-1G', ''])
      assert.throws(
        () => parseSize(bad),
        (e) => isDriveseedError(e, 'USAGE') && /not a size/.test((e as Error).message),
        bad,
      );
  });
});
