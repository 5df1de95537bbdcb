import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerPool, WorkerThreads } from './worker-pool.js';

/** A worker script from source: doubles `n` after `delay` ms, throws on `crash`, exits on `exit`. */
const SCRIPT = new URL(
  'data:text/javascript,' +
    encodeURIComponent(`
      import { parentPort } from 'node:worker_threads';
      parentPort.on('message', (m) => {
        if (m.crash) throw new Error('the worker broke');
        if (m.exit !== undefined) process.exit(m.exit);
        setTimeout(() => parentPort.postMessage({ n: m.n * 2 }), m.delay ?? 0);
      });
    `),
);

interface Request {
  n?: number;
  delay?: number;
  crash?: boolean;
  exit?: number;
}

describe('worker pool', () => {
  it('answers every request with its own reply, however the threads interleave', async () => {
    const pool = new WorkerPool<Request, { n: number }>(SCRIPT, 3);
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => pool.run({ n, delay: (n * 7) % 5 })));
      assert.deepEqual(
        replies.map((r) => r.n),
        Array.from({ length: 20 }, (_, n) => n * 2),
      );
    } finally {
      await pool.close();
    }
  });

  it('fails the request a thread held when it throws, and every later request', async () => {
    const pool = new WorkerPool<Request, { n: number }>(SCRIPT, 2);
    try {
      await assert.rejects(pool.run({ crash: true }), /the worker broke/);
      await assert.rejects(pool.run({ n: 1 }), /the worker broke/);
    } finally {
      await pool.close();
    }
  });

  it('fails the request of a thread that exits instead of waiting for it for ever', { timeout: 10_000 }, async () => {
    const pool = new WorkerPool<Request, { n: number }>(SCRIPT, 1);
    try {
      const waiting = pool.run({ n: 2, delay: 50 });
      await assert.rejects(pool.run({ exit: 3 }), /exit code 3/);
      assert.equal((await waiting).n, 4, 'the request before it was answered');
    } finally {
      await pool.close();
    }
  });
});

describe('worker threads', () => {
  it('report a failure once per thread, and none for threads terminated on purpose', { timeout: 10_000 }, async () => {
    const failures: string[] = [];
    const threads = new WorkerThreads<unknown>(SCRIPT, { message: () => undefined, failure: (_w, e) => failures.push(e.message) });
    const broken = threads.spawn();
    threads.spawn();
    broken.postMessage({ crash: true });
    while (failures.length === 0) await sleep(5);
    await threads.terminate();
    await sleep(20);
    assert.deepEqual(failures, ['the worker broke'], 'the throw, not also the exit that follows it or the termination');
  });
});
