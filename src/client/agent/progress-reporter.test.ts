import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobProgress } from '../../api/schemas.js';
import { MemoryStore } from '../../core/storage/memory/memory-store.js';
import { liveProgress } from './progress-reporter.js';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('live progress of a backup job', () => {
  it('reports what changed, with the bytes stored so far, and nothing once stopped', async () => {
    const sent: JobProgress[] = [];
    const live = liveProgress(new MemoryStore(), async (p) => void sent.push(p), 10);
    live.update({ files: 3, bytes: 300, errors: 0 });
    await until(() => sent.length === 1, 'the first report');
    await live.store.put('data/00/pack', new Uint8Array(1234));
    await until(() => sent.length === 2, 'a report after a put');
    assert.deepEqual(sent, [
      { files: 3, bytes: 300, errors: 0, sent: 0 },
      { files: 3, bytes: 300, errors: 0, sent: 1234 },
    ]);
    await sleep(50);
    assert.equal(sent.length, 2, 'no report while nothing changes');
    live.stop();
    live.update({ files: 4, bytes: 400, errors: 1 });
    await sleep(50);
    assert.equal(sent.length, 2, 'no report after stop');
  });

  it('a failing or slow service never fails the backup: one report in flight, failures retried later', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const live = liveProgress(
      new MemoryStore(),
      async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(40);
        inFlight--;
        throw new Error('service down');
      },
      5,
    );
    live.update({ files: 1, bytes: 1, errors: 0 });
    await until(() => calls >= 3, 'retries of the unsent report');
    live.stop();
    assert.equal(maxInFlight, 1);
  });
});
