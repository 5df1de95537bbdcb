import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  localPathsOf,
  readStreamsOf,
  urlSignerOf,
  type BlobStore,
  type LocalPathAccess,
  type LocalPaths,
  type ReadStreaming,
  type SignedBlobUrls,
  type StreamingReads,
  type UrlSigning,
} from './blob-store.js';
import { CountingStore } from './counting.js';
import { FaultyStore } from './faulty.js';
import { FsStore } from './fs/fs-store.js';
import { LocalCopyStore } from './local-copy.js';
import { MemoryStore } from './memory/memory-store.js';
import { PrefixStore } from './prefix.js';
import { RetryStore } from './retry.js';
import { ThrottleStore } from './throttle.js';
import { runBlobStoreSuite } from './store-suite.case.js';

/** A backend with every capability, whose answers name the blob they were asked for. */
class CapableStore extends MemoryStore implements UrlSigning, ReadStreaming, LocalPathAccess {
  urlSigner(): SignedBlobUrls {
    return { signedUrl: async (name, access) => `signed ${access} ${name}` };
  }

  readStreams(): StreamingReads {
    return {
      openRead: async (name, range) => {
        const bytes = await this.get(name, range);
        return { length: bytes.length, stream: Readable.from([bytes]) };
      },
    };
  }

  localPaths(): LocalPaths {
    return { localPath: (name) => `/blobs/${name}` };
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What each capability gives for the blob `a/b` through a wrapper; undefined where it is withheld. */
interface Reached {
  signed?: string;
  localPath?: string;
  streamed?: string;
}

const passedOn: Reached = { signed: 'signed read a/b', localPath: '/blobs/a/b', streamed: 'top level' };
const inFolder: Reached = { signed: 'signed read p/a/b', localPath: '/blobs/p/a/b', streamed: 'in the folder' };

const wrappers: { name: string; wrap: (backend: BlobStore) => BlobStore; reached: Reached }[] = [
  { name: 'retry passes every capability on', wrap: (b) => new RetryStore(b), reached: passedOn },
  { name: 'prefix maps every capability into its folder', wrap: (b) => new PrefixStore(b, 'p'), reached: inFolder },
  {
    name: 'an upload limit withholds signing only',
    wrap: (b) => new ThrottleStore(b, { uploadBytesPerSecond: 1e9 }),
    reached: { ...passedOn, signed: undefined },
  },
  {
    name: 'a download limit meters streams and withholds local paths',
    wrap: (b) => new ThrottleStore(b, { downloadBytesPerSecond: 1e9 }),
    reached: { streamed: 'top level' },
  },
  { name: 'counting withholds signing only', wrap: (b) => new CountingStore(b), reached: { ...passedOn, signed: undefined } },
  { name: 'faulty withholds everything', wrap: (b) => new FaultyStore(b), reached: {} },
  { name: 'local copy withholds everything', wrap: (b) => new LocalCopyStore(b, new MemoryStore()), reached: {} },
  { name: 'through layers: a folder over retries', wrap: (b) => new PrefixStore(new RetryStore(b), 'p'), reached: inFolder },
  {
    name: 'through layers: retries over counting over a folder',
    wrap: (b) => new RetryStore(new CountingStore(new PrefixStore(b, 'p'))),
    reached: { ...inFolder, signed: undefined },
  },
];

describe('capabilities through wrappers', () => {
  for (const { name, wrap, reached } of wrappers) {
    it(name, async () => {
      const backend = new CapableStore();
      await backend.put('a/b', Buffer.from('top level'));
      await backend.put('p/a/b', Buffer.from('in the folder'));
      const store = wrap(backend);
      assert.equal(await urlSignerOf(store)?.signedUrl('a/b', 'read', new Date(Date.now() + 60_000)), reached.signed);
      assert.equal(localPathsOf(store)?.localPath('a/b'), reached.localPath);
      const reader = await readStreamsOf(store)?.openRead('a/b');
      assert.equal(reader && (await readAll(reader.stream)).toString(), reached.streamed);
    });
  }

  it('a wrapped FsStore names the file that holds a blob; a folder over it cannot name one outside', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'forwarding-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const retried = new RetryStore(new FsStore(dir));
    await retried.put('data/ab/pack', Buffer.from('pack bytes'));
    assert.deepEqual(await readFile(localPathsOf(retried)!.localPath('data/ab/pack'), 'utf8'), 'pack bytes');
    const folder = new PrefixStore(retried, 'vaults/v/servers/s');
    await folder.put('data/cd/pack', Buffer.from('in a vault'));
    const local = localPathsOf(folder)!;
    assert.equal(local.localPath('data/cd/pack'), join(dir, 'vaults/v/servers/s/data/cd/pack'));
    assert.deepEqual(await readFile(local.localPath('data/cd/pack'), 'utf8'), 'in a vault');
    assert.throws(() => local.localPath('../../other/data'), /invalid blob name/);
  });

  it('a throttled stream read keeps to the download limit (a lower bound only: the machine is shared)', async () => {
    const backend = new CapableStore();
    await backend.put('big', Buffer.alloc(200_000, 7));
    const store = new ThrottleStore(backend, { downloadBytesPerSecond: 100_000 });
    const started = Date.now();
    // One second of burst is free; the other 100 KB must wait about a second.
    const reader = await readStreamsOf(store)!.openRead('big');
    assert.deepEqual(await readAll(reader.stream), Buffer.alloc(200_000, 7));
    assert.ok(Date.now() - started >= 900, `took ${Date.now() - started} ms`);
  });

  it('a throttled stream whose source fails mid-way fails its reader', async () => {
    const cutOff = () =>
      new Readable({
        read() {
          this.destroy(new Error('connection reset'));
        },
      });
    const failing = Object.assign(new MemoryStore(), { readStreams: (): StreamingReads => ({ openRead: async () => ({ length: 10, stream: cutOff() }) }) });
    const reader = await readStreamsOf(new ThrottleStore(failing, { downloadBytesPerSecond: 1e9 }))!.openRead('x');
    await assert.rejects(readAll(reader.stream), /connection reset/);
  });
});

// Streamed reads through three layers, metered on the way: the same bytes as `get`, refused where `get` refuses.
runBlobStoreSuite('retry(throttle(prefix(fs))), downloads limited', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'forwarding-'));
  const limited = new ThrottleStore(new PrefixStore(new FsStore(dir), 'vaults/v'), { downloadBytesPerSecond: 1e10 });
  // Quick retries, should anything be retried: a range past the end (BAD_RANGE) is an answer, not retried.
  const store = new RetryStore(limited, { baseDelayMs: 1 });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
