import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAll } from '../storage/blob-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { ForwardingStore } from '../storage/forwarding.js';
import { fileId } from './ids.js';
import { MetadataCacheStore } from './metadata-cache.js';

/** Counts the whole-file reads that reach the store underneath. */
class ReadCounter extends ForwardingStore {
  reads = 0;
  override get(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    this.reads++;
    return this.inner.get(name, range);
  }
}

async function setUp(t: { after: (fn: () => Promise<void>) => void }, maxBytes = 1 << 20) {
  const directory = await mkdtemp(join(tmpdir(), 'metadata-cache-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const remote = new MemoryStore();
  const counter = new ReadCounter(remote);
  return { directory, remote, counter, cache: new MetadataCacheStore(counter, { directory, maxBytes }) };
}

function indexFile(size = 1000): { name: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { name: `index/${fileId(bytes, 'blake3')}`, bytes };
}

describe('metadata cache', () => {
  it('reads a file from the remote store once, then from the cache', async (t) => {
    const { remote, counter, cache } = await setUp(t);
    const file = indexFile();
    await remote.put(file.name, file.bytes);
    assert.deepEqual(await cache.get(file.name), file.bytes);
    assert.deepEqual(await cache.get(file.name), file.bytes);
    assert.equal(counter.reads, 1);
  });

  it('keeps what it uploads, so the next read needs no download', async (t) => {
    const { counter, cache } = await setUp(t);
    const file = indexFile();
    await cache.put(file.name, file.bytes);
    assert.deepEqual(await cache.get(file.name), file.bytes);
    assert.equal(counter.reads, 0);
  });

  it('does not keep a download whose bytes do not hash to its name', async (t) => {
    const { directory, remote, cache } = await setUp(t);
    const name = `index/${'ab'.repeat(32)}`;
    await remote.put(name, randomBytes(100));
    await cache.get(name);
    assert.deepEqual(await readdir(join(directory, 'index')).catch(() => []), []);
  });

  it('evicts the files a listing no longer names', async (t) => {
    const { directory, remote, cache } = await setUp(t);
    const [kept, gone] = [indexFile(), indexFile()];
    await cache.put(kept.name, kept.bytes);
    await cache.put(gone.name, gone.bytes);
    await remote.delete(gone.name);
    assert.deepEqual(
      (await listAll(cache, 'index/')).map((f) => f.name),
      [kept.name],
    );
    assert.deepEqual(await readdir(join(directory, 'index')), [kept.name.slice('index/'.length)]);
  });

  it('stays within its bound, dropping the least recently used files first', async (t) => {
    const { directory, cache } = await setUp(t, 2500);
    const files = [indexFile(), indexFile(), indexFile()];
    for (const [i, file] of files.entries()) {
      await cache.put(file.name, file.bytes);
      const at = new Date(Date.now() - (10 - i) * 1000);
      await utimes(join(directory, file.name), at, at); // written in order, oldest first
    }
    const left = await readdir(join(directory, 'index'));
    assert.deepEqual(left.sort(), [files[1], files[2]].map((f) => f.name.slice('index/'.length)).sort());
  });

  it('trims to a bound known only after a run, least recently used first', async (t) => {
    const { directory, cache } = await setUp(t, Infinity);
    const files = [indexFile(), indexFile(), indexFile()];
    for (const [i, file] of files.entries()) {
      await cache.put(file.name, file.bytes);
      const at = new Date(Date.now() - (10 - i) * 1000);
      await utimes(join(directory, file.name), at, at);
    }
    assert.equal((await readdir(join(directory, 'index'))).length, 3, 'no bound while the run goes on');
    await cache.trimTo(files[2].bytes.length);
    assert.deepEqual(await readdir(join(directory, 'index')), [files[2].name.slice('index/'.length)]);
  });

  it('keeps a pack read whole only when its reader asks (check --read-data reads data packs whole too)', async (t) => {
    const { directory, remote, counter, cache } = await setUp(t);
    const bytes = randomBytes(3000);
    const name = `data/${fileId(bytes, 'blake3').slice(0, 2)}/${fileId(bytes, 'blake3')}`;
    await remote.put(name, bytes);
    await cache.get(name);
    assert.deepEqual(await readdir(directory), [], 'a data pack read whole is not kept');
    await cache.keepCopy(name, await cache.get(name));
    assert.deepEqual(await cache.get(name), bytes);
    assert.equal(counter.reads, 2, 'the tree pack kept is read locally from then on');
  });

  it('ranged reads and reads of other files pass through untouched', async (t) => {
    const { directory, remote, counter, cache } = await setUp(t);
    const file = indexFile();
    await remote.put(file.name, file.bytes);
    await remote.put('config', Buffer.from('{}'));
    assert.deepEqual(await cache.get(file.name, { offset: 10, length: 5 }), file.bytes.subarray(10, 15));
    await cache.get('config');
    assert.equal(counter.reads, 2);
    assert.deepEqual(await readdir(directory), []);
  });

  it('a recent temp file (a writer may still be writing it) is neither listed nor evicted', async (t) => {
    const { directory, remote, cache } = await setUp(t);
    const file = indexFile();
    await remote.put(file.name, file.bytes);
    await cache.get(file.name);
    await writeFile(join(directory, 'index', '.tmp-0123456789abcdef'), randomBytes(10));
    assert.deepEqual(
      (await listAll(cache, 'index/')).map((f) => f.name),
      [file.name],
    );
    assert.deepEqual((await readdir(join(directory, 'index'))).sort(), ['.tmp-0123456789abcdef', file.name.slice('index/'.length)].sort());
  });
});
