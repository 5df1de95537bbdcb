import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { BlobData } from '../storage/blob-store.js';
import type { PackEntry } from './master-index.js';
import { PackUploader } from './pack-uploader.js';

/** A store whose pack uploads wait until the test lets them finish, or fail. */
class GatedStore extends MemoryStore {
  running = 0;
  maxRunning = 0;
  private readonly gates: { name: string; open: () => void; fail: (e: Error) => void }[] = [];

  override async put(name: string, data: BlobData): Promise<void> {
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    try {
      await new Promise<void>((open, fail) => this.gates.push({ name, open, fail }));
      await super.put(name, data);
    } finally {
      this.running--;
    }
  }

  async finishNext(error?: Error): Promise<void> {
    while (this.gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const gate = this.gates.shift()!;
    if (error) gate.fail(error);
    else gate.open();
  }
}

function pack(n: number): PackEntry {
  return { id: n.toString(16).padStart(64, '0'), size: 10, blobs: [] };
}

describe('pack uploader', () => {
  it('has at most two packs built on main in flight, and a pack is stored only once the index writer took it', async () => {
    const store = new GatedStore();
    const taken: string[] = [];
    const uploader = new PackUploader(store, async (p) => {
      taken.push(p.id);
    });
    await uploader.upload(pack(1), [Buffer.from('a')]);
    await uploader.upload(pack(2), [Buffer.from('b')]);
    let thirdStarted = false;
    const third = uploader.upload(pack(3), [Buffer.from('c')]).then(() => (thirdStarted = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(thirdStarted, false, 'the third waits for room');
    await store.finishNext();
    await third;
    const settled = uploader.settle();
    await store.finishNext();
    await store.finishNext();
    await settled;
    assert.equal(store.maxRunning, 2);
    assert.deepEqual(taken.sort(), [pack(1).id, pack(2).id, pack(3).id]);
  });

  it('keeps the first failure: the next upload and settle() throw it, and uploadAndWait rejects with its own', async () => {
    const store = new GatedStore();
    const uploader = new PackUploader(store, async () => undefined);
    const lent = uploader.uploadAndWait(pack(1), Buffer.from('a'));
    await store.finishNext(new Error('link down'));
    await assert.rejects(lent, /link down/);
    await assert.rejects(uploader.upload(pack(2), [Buffer.from('b')]), /link down/);
    await assert.rejects(uploader.uploadAndWait(pack(3), Buffer.from('c')), /link down/);
    await assert.rejects(uploader.settle(), /link down/);
    assert.equal(store.running, 0, 'nothing was started after the failure');
  });
});
