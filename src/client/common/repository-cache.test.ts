import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cacheBoundFor, MIN_CACHE_BYTES } from './repository-cache.js';

describe('the agent cache bound', () => {
  it('is 1 % of the protected data, never less than the minimum', (t) => {
    t.after(() => delete process.env.DRIVESEED_CACHE_MAX_BYTES);
    delete process.env.DRIVESEED_CACHE_MAX_BYTES;
    assert.equal(cacheBoundFor(10e12), 100e9, '10 TB protected: 100 GB, room for its ~1 GB index and its trees');
    assert.equal(cacheBoundFor(1e9), MIN_CACHE_BYTES);
    assert.equal(cacheBoundFor(0), MIN_CACHE_BYTES);
  });

  it('DRIVESEED_CACHE_MAX_BYTES fixes it; a value that is not a size is ignored', (t) => {
    t.after(() => delete process.env.DRIVESEED_CACHE_MAX_BYTES);
    process.env.DRIVESEED_CACHE_MAX_BYTES = '1000';
    assert.equal(cacheBoundFor(10e12), 1000);
    process.env.DRIVESEED_CACHE_MAX_BYTES = 'lots';
    assert.equal(cacheBoundFor(10e12), 100e9);
  });
});
