import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isDriveseedError } from '../errors.js';
import { Readable } from 'node:stream';
import { listAll, readStreamsOf, writeStreamsOf, type BlobStore, type ByteRange } from './blob-store.js';

export interface StoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

/** Every guarantee of the BlobStore interface, run against every backend. */
export function runBlobStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: BlobStore;
    before(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    after(() => fixture.cleanup());

    it('round-trips whole files and files given as parts', async () => {
      const data = randomBytes(1000);
      await store.put('a/one', data);
      assert.deepEqual(await store.get('a/one'), data);
      await store.put('a/parts', [data.subarray(0, 10), data.subarray(10, 10), data.subarray(10)]);
      assert.deepEqual(await store.get('a/parts'), data);
      await store.put('a/empty', Buffer.alloc(0));
      assert.equal((await store.get('a/empty')).length, 0);
    });

    it('reads ranges, including the first and last byte', async () => {
      const data = randomBytes(5000);
      await store.put('r/file', data);
      assert.deepEqual(await store.get('r/file', { offset: 0, length: 1 }), data.subarray(0, 1));
      assert.deepEqual(await store.get('r/file', { offset: 4999, length: 1 }), data.subarray(4999));
      assert.deepEqual(await store.get('r/file', { offset: 100, length: 2000 }), data.subarray(100, 2100));
      // A range that runs past the end, or starts there, is the caller's mistake (HTTP 416), never a storage fault.
      for (const range of [
        { offset: 4990, length: 11 },
        { offset: 5000, length: 1 },
        { offset: 1e9, length: 10 },
      ]) {
        await assert.rejects(store.get('r/file', range), (e) => isDriveseedError(e, 'BAD_RANGE'), JSON.stringify(range));
      }
    });

    it('replaces a file whole on a second put', async () => {
      await store.put('o/file', Buffer.from('first version, longer'));
      await store.put('o/file', Buffer.from('second'));
      assert.equal((await store.get('o/file')).toString(), 'second');
      assert.equal((await store.stat('o/file')).size, 6);
    });

    it('lists by prefix, also mid-segment and across nested folders', async () => {
      for (const n of ['l/ab/1', 'l/ab/2', 'l/ac/3', 'l/b', 'lx']) await store.put(n, Buffer.from(n));
      const names = async (prefix: string) => (await listAll(store, prefix)).map((b) => b.name).sort();
      assert.deepEqual(await names('l/'), ['l/ab/1', 'l/ab/2', 'l/ac/3', 'l/b']);
      assert.deepEqual(await names('l/a'), ['l/ab/1', 'l/ab/2', 'l/ac/3']);
      assert.deepEqual(await names('l/ab/'), ['l/ab/1', 'l/ab/2']);
      assert.deepEqual(await names('nothing/'), []);
      const sized = await listAll(store, 'l/b');
      assert.deepEqual(sized, [{ name: 'l/b', size: 3 }]);
    });

    it('says NOT_FOUND for a missing file, and delete is idempotent', async () => {
      await assert.rejects(store.get('missing/file'), (e) => isDriveseedError(e, 'NOT_FOUND'));
      await assert.rejects(store.stat('missing/file'), (e) => isDriveseedError(e, 'NOT_FOUND'));
      assert.equal(await store.exists('missing/file'), false);
      await store.put('d/file', Buffer.from('x'));
      assert.equal(await store.exists('d/file'), true);
      await store.delete('d/file');
      await store.delete('d/file');
      assert.equal(await store.exists('d/file'), false);
    });

    it('rejects names that could escape the store', async () => {
      for (const bad of ['../x', '/abs', 'a//b', 'a/./b', '', 'sp ace']) {
        await assert.rejects(store.put(bad, Buffer.from('x')), /invalid blob name/, bad);
      }
    });

    it('lists by name prefix only: a prefix that is a path is refused before anything is read', async () => {
      await store.put('p/inside', Buffer.from('x'));
      for (const bad of ['../', '../../../', '/', '/etc', 'p//', 'p/./', 'p/../', './p', 'p/\0', 'p\\x', 'p/ sp']) {
        await assert.rejects(listAll(store, bad), (e) => isDriveseedError(e, 'USAGE') && /invalid blob prefix/.test((e as Error).message), bad);
      }
      // ".." without a slash is the start of a valid name such as "..x": it filters names and names no directory.
      assert.deepEqual(await listAll(store, '..'), []);
      assert.deepEqual(
        (await listAll(store, 'p/in')).map((b) => b.name),
        ['p/inside'],
      );
    });

    it('streams whole files and ranges as get reads them, when it can stream; refuses what get refuses, before a byte', async (t) => {
      const streams = readStreamsOf(store);
      if (!streams) return t.skip('this store reads whole files only');
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await store.put('s/file', data);
      const read = async (range?: ByteRange) => {
        const reader = await streams.openRead('s/file', range);
        const chunks: Buffer[] = [];
        for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        assert.equal(reader.length, bytes.length, 'the length said up front is what the stream gives');
        return bytes;
      };
      assert.deepEqual(await read(), data);
      assert.deepEqual(await read({ offset: 0, length: 1 }), data.subarray(0, 1));
      assert.deepEqual(await read({ offset: data.length - 1, length: 1 }), data.subarray(data.length - 1));
      assert.deepEqual(await read({ offset: 1_000_000, length: 2_000_000 }), data.subarray(1_000_000, 3_000_000));
      assert.equal((await read({ offset: 5, length: 0 })).length, 0);
      await assert.rejects(streams.openRead('s/missing'), (e) => isDriveseedError(e, 'NOT_FOUND'));
      await assert.rejects(
        streams.openRead('s/file', { offset: data.length - 10, length: 11 }),
        (e) => isDriveseedError(e, 'BAD_RANGE') && /past the end/.test((e as Error).message),
      );
    });

    it('writes from a stream when it can, as put does; a source that fails leaves no file and rejects with its error', async (t) => {
      const writes = writeStreamsOf(store);
      if (!writes) return t.skip('this store writes whole files only');
      // Parts of odd sizes, more than one of a backend's blocks: the file is their concatenation.
      const parts = [randomBytes(3 * 1024 * 1024 + 7), randomBytes(5 * 1024 * 1024 - 3), randomBytes(1)];
      await writes.putStream('w/streamed', Readable.from(parts));
      assert.deepEqual(await store.get('w/streamed'), Buffer.concat(parts));
      const failing = Readable.from(
        (async function* () {
          yield randomBytes(5 * 1024 * 1024);
          throw new Error('the source refused its bytes');
        })(),
      );
      await assert.rejects(writes.putStream('w/failed', failing), /the source refused its bytes/);
      assert.equal(await store.exists('w/failed'), false);
      assert.deepEqual(
        (await listAll(store, 'w/')).map((b) => b.name),
        ['w/streamed'],
      );
    });

    it('stores a 20 MiB file and many concurrent small ones', async () => {
      const big = randomBytes(20 * 1024 * 1024);
      await store.put('big/file', big);
      assert.deepEqual(await store.get('big/file'), big);
      const small = Array.from({ length: 50 }, (_, i) => [`c/${i}`, randomBytes(100 + i)] as const);
      await Promise.all(small.map(([n, d]) => store.put(n, d)));
      for (const [n, d] of small) assert.deepEqual(await store.get(n), d);
    });
  });
}
