import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileId } from '../../core/repo/ids.js';
import { packName } from '../../core/repo/layout.js';
import {
  readStreamsOf,
  writeStreamsOf,
  type BlobData,
  type BlobStore,
  type ByteRange,
  type StreamingReads,
  type StreamingWrites,
} from '../../core/storage/blob-store.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { ForwardingStore } from '../../core/storage/forwarding.js';
import { PrefixStore } from '../../core/storage/prefix.js';
import { copyVerified } from './seed-copy.js';

/** Counts what goes through whole-file get and put; streams pass by, as the service's stores pass them. */
class WholeFileCount extends ForwardingStore {
  wholeBytes = 0;

  constructor(inner: BlobStore) {
    super(inner);
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    const data = await super.get(name, range);
    this.wholeBytes += data.length;
    return data;
  }

  override async put(name: string, data: BlobData): Promise<void> {
    this.wholeBytes += Array.isArray(data) ? data.reduce((n: number, p: Uint8Array) => n + p.length, 0) : (data as Uint8Array).length;
    return super.put(name, data);
  }

  override readStreams(): StreamingReads | undefined {
    return readStreamsOf(this.inner);
  }

  override writeStreams(): StreamingWrites | undefined {
    return writeStreamsOf(this.inner);
  }
}

describe('seed copy', () => {
  it('streams each file from the container into the vault, checked on the way; a damaged one leaves nothing', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-seed-copy-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The service's own layout: an account's container and a vault repository, folders of one blob directory.
    const blobs = new FsStore(join(dir, 'blobs'));
    const container = new WholeFileCount(new PrefixStore(blobs, 'accounts/a/containers/c'));
    const vault = new WholeFileCount(new PrefixStore(blobs, 'vaults/v/servers/s'));
    const big = randomBytes(40 * 1024 * 1024);
    const bigName = packName(fileId(big, 'blake3'));
    await blobs.put(`accounts/a/containers/c/${bigName}`, big);
    const bad = randomBytes(3 * 1024 * 1024);
    const badName = packName(fileId(randomBytes(8), 'blake3'));
    await blobs.put(`accounts/a/containers/c/${badName}`, bad);
    container.wholeBytes = 0;

    assert.equal(await copyVerified(container, vault, bigName), big.length);
    assert.ok((await readFile(join(dir, 'blobs', 'vaults/v/servers/s', bigName))).equals(big));
    assert.equal(await copyVerified(container, vault, badName), 'damaged');
    assert.equal(await vault.exists(badName), false, 'nothing of a damaged file reaches the vault');
    assert.equal(container.wholeBytes + vault.wholeBytes, 0, 'no file was read or written whole');
  });

  it('a streamed write that fails leaves no file and no temp file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-seed-copy-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new FsStore(dir);
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024);
        throw new Error('source failed');
      })(),
    );
    await assert.rejects(writeStreamsOf(store)!.putStream('data/ab/x', failing), /source failed/);
    assert.deepEqual(await readdir(join(dir, 'data', 'ab')), []);
  });
});
