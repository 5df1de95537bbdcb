import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../errors.js';
import { listAll } from './blob-store.js';
import { FaultyStore } from './faulty.js';
import { LocalCopyStore } from './local-copy.js';
import { MemoryStore } from './memory/memory-store.js';
import { RetryStore } from './retry.js';
import { ThrottleStore } from './throttle.js';
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
    await assert.rejects(
      store.put('data/x', Buffer.from('x')),
      (e) => isDriveseedError(e, 'STORAGE') && /put data\/x .* failed 3 times/.test((e as Error).message),
    );
  });

  it('does not retry NOT_FOUND', async () => {
    const faulty = new FaultyStore(new MemoryStore());
    const store = new RetryStore(faulty, { attempts: 5, baseDelayMs: 1 });
    await assert.rejects(store.get('missing'), (e) => isDriveseedError(e, 'NOT_FOUND'));
    assert.equal(faulty.calls.length, 1);
  });
});

describe('throttle', () => {
  it('holds puts to the rate by the clock it is given (no wall-clock timing: the machine is shared)', async () => {
    let t = 0;
    const clock = { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
    const store = new ThrottleStore(new MemoryStore(), { uploadBytesPerSecond: 100_000, clock });
    // A memory store meters nothing itself: the wrapper meters each put after it.
    for (let i = 0; i < 4; i++) await store.put(`f${i}`, Buffer.alloc(50_000));
    assert.ok(t >= 1950 && t <= 2100, `200 kB at 100 kB/s: ${t} ms of the clock`);
    assert.equal((await store.get('f3')).length, 50_000);
  });

  it('follows a schedule: no limit while it says none', async () => {
    let t = 0;
    const clock = { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
    const store = new ThrottleStore(new MemoryStore(), { uploadBytesPerSecond: () => undefined, downloadBytesPerSecond: 1000, clock });
    await store.put('big', Buffer.alloc(10_000_000));
    assert.equal(t, 0);
    await store.get('big', { offset: 0, length: 2000 });
    assert.ok(t >= 1900, `2 kB at 1 kB/s: ${t} ms`);
  });
});

runBlobStoreSuite('local copy over memory', async () => ({
  store: new LocalCopyStore(new MemoryStore(), new MemoryStore()),
  cleanup: async () => undefined,
}));

describe('local copy', () => {
  it('reads what the copy holds from the copy, the rest from the remote; writes and lists only the remote', async () => {
    const remote = new FaultyStore(new MemoryStore());
    const copy = new MemoryStore();
    await copy.put('data/aa/seed', Buffer.from('seed pack'));
    await remote.put('index/new', Buffer.from('new index'));
    const store = new LocalCopyStore(remote, copy);
    assert.equal((await store.get('data/aa/seed')).toString(), 'seed pack');
    assert.equal((await store.get('data/aa/seed', { offset: 5, length: 4 })).toString(), 'pack');
    assert.equal(remote.calls.filter((c) => c.op === 'get').length, 0, 'the remote is not asked for what the copy holds');
    assert.equal((await store.get('index/new')).toString(), 'new index');
    await store.put('data/bb/change', Buffer.from('x'));
    assert.equal(await copy.exists('data/bb/change'), false);
    assert.deepEqual((await listAll(store, '')).map((f) => f.name).sort(), ['data/bb/change', 'index/new']);
    await assert.rejects(store.get('data/cc/nowhere'), (e) => isDriveseedError(e, 'NOT_FOUND'));
  });
});
