import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isDriveseedError } from '../../errors.js';
import { listAll, readStreamsOf, writeStreamsOf } from '../blob-store.js';
import { runBlobStoreSuite } from '../store-suite.case.js';
import { FsStore } from './fs-store.js';
import { PrefixStore } from '../prefix.js';

runBlobStoreSuite('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
  return { store: new FsStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// A vault's repository is a folder of the service's store: the prefix passes streaming reads on.
runBlobStoreSuite('prefix(fs)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
  return { store: new PrefixStore(new FsStore(dir), 'vaults/v/servers/s'), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('fs store', () => {
  it('does not show the temp file of a writer killed mid-put', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new FsStore(dir);
    await mkdir(join(dir, 'data', 'ab'), { recursive: true });
    await writeFile(join(dir, 'data', 'ab', 'abcd.tmp-0123456789ab'), 'half a pack');
    assert.deepEqual(await listAll(store, 'data/'), []);
    assert.equal(await store.exists('data/ab/abcd'), false);
  });

  it('names are paths: a folder of other names is no blob, and a name through a blob or onto a folder is a CONFLICT, not an I/O fault', async (t) => {
    // Found by the API fuzzer: PUT and GET of `data` beside `data/ab/…` answered 500.
    const dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new FsStore(dir);
    await store.put('data/ab/abcd', Buffer.from('pack'));
    await store.put('keys/k', Buffer.from('key'));
    const notFound = (e: unknown) => isDriveseedError(e, 'NOT_FOUND');
    await assert.rejects(store.get('data'), notFound);
    await assert.rejects(store.get('data/ab'), notFound);
    await assert.rejects(store.get('keys/k/x'), notFound);
    await assert.rejects(readStreamsOf(store)!.openRead('data/ab'), notFound);
    await assert.rejects(store.stat('data'), notFound);
    assert.equal(await store.exists('data'), false);
    const conflict = (e: unknown) => isDriveseedError(e, 'CONFLICT') && !(e as Error).message.includes(dir);
    await assert.rejects(store.put('data', Buffer.from('x')), conflict);
    await assert.rejects(store.put('keys/k/x', Buffer.from('x')), conflict);
    await assert.rejects(store.put('keys/k/x/y/z', Buffer.from('x')), conflict);
    await assert.rejects(writeStreamsOf(store)!.putStream('data/ab', Readable.from([Buffer.from('x')])), conflict);
    // Deleting the name of a folder deletes nothing: it holds other blobs.
    await store.delete('data');
    assert.deepEqual(
      (await listAll(store, '')).map((b) => b.name),
      ['data/ab/abcd', 'keys/k'],
    );
  });
});
