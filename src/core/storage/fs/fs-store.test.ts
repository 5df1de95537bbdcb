import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAll } from '../blob-store.js';
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
});
