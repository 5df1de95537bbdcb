import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../errors.js';
import { FaultyStore } from './faulty.js';
import { MemoryStore } from './memory/memory-store.js';
import { RetryStore } from './retry.js';
import { parseRate, ThrottleStore } from './throttle.js';
import { runBlobStoreSuite } from './store-suite.case.js';

runBlobStoreSuite('retry(throttle(memory))', async () => ({
  store: new RetryStore(new ThrottleStore(new MemoryStore(), { uploadBytesPerSecond: 1e9 })),
  cleanup: async () => undefined,
}));

describe('retry', () => {
  it('succeeds after transient failures', async () => {
    const faulty = new FaultyStore(new MemoryStore());
    const store = new RetryStore(faulty, { attempts: 4, baseDelayMs: 1 });
    faulty.failNext('put', 3);
    await store.put('a', Buffer.from('x'));
    assert.equal((await store.get('a')).toString(), 'x');
    assert.equal(faulty.calls.filter((c) => c.op === 'put').length, 4);
  });

  it('gives up with a STORAGE error naming the operation and file', async () => {
    const faulty = new FaultyStore(new MemoryStore());
    const store = new RetryStore(faulty, { attempts: 3, baseDelayMs: 1 });
    faulty.failNext('put', 10);
    await assert.rejects(store.put('data/x', Buffer.from('x')), (e) => isDriveseedError(e, 'STORAGE') && /put data\/x .* failed 3 times/.test((e as Error).message));
  });

  it('does not retry NOT_FOUND', async () => {
    const faulty = new FaultyStore(new MemoryStore());
    const store = new RetryStore(faulty, { attempts: 5, baseDelayMs: 1 });
    await assert.rejects(store.get('missing'), (e) => isDriveseedError(e, 'NOT_FOUND'));
    assert.equal(faulty.calls.length, 1);
  });
});

describe('throttle', () => {
  it('parses rates', () => {
    assert.equal(parseRate('10M'), 10_000_000);
    assert.equal(parseRate('512KiB'), 524_288);
    assert.equal(parseRate('1.5MB/s'), 1_500_000);
    assert.equal(parseRate('100000'), 100_000);
    assert.throws(() => parseRate('fast'), /not a rate/);
    assert.throws(() => parseRate('0'), /not a rate/);
  });

  it('holds puts to the rate (a lower bound only: the machine is shared)', async () => {
    const store = new ThrottleStore(new MemoryStore(), { uploadBytesPerSecond: 100_000 });
    const started = Date.now();
    // One second of burst is free; the next 100 KB must wait about a second.
    for (let i = 0; i < 4; i++) await store.put(`f${i}`, Buffer.alloc(50_000));
    assert.ok(Date.now() - started >= 900, `took ${Date.now() - started} ms`);
  });
});
