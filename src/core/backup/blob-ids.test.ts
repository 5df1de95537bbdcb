import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from './archiver.js';
import { restore } from './restorer.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { checkRepository } from '../repo/check.js';
import { encodeConfig, readConfig } from '../repo/config.js';
import { blobIdFunction } from '../repo/crypto.js';
import { contentMatchesId, fileId } from '../repo/ids.js';
import { expectedContentHash, idFromName } from '../repo/layout.js';
import { listAll } from '../storage/blob-store.js';
import { CONFIG_FILE } from '../repo/layout.js';
import { decodeTree } from '../repo/tree.js';
import { Repository } from '../repo/repository.js';

/** The BLAKE3 test vectors' key and input (bytes i mod 251); the hash is what Debian's b3sum 1.2.0 gives for them. */
const VECTOR_KEY = Buffer.from('whats the Elvish word for friend');
const VECTOR_INPUT = Buffer.from(Array.from({ length: 1025 }, (_, i) => i % 251));
const VECTOR_KEYED_HASH = '357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea69';
/** b3sum of the same input, unkeyed. */
const VECTOR_HASH = 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444';

/** Every file of the store whose name promises a hash, with whether it is that of its bytes under `scheme`. */
async function namedFiles(store: MemoryStore, scheme: 'blake3' | 'sha256'): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const info of await listAll(store, '')) {
    if (expectedContentHash(info.name)) out.set(info.name, fileId(await store.get(info.name), scheme) === idFromName(info.name));
  }
  return out;
}

describe('file ids', () => {
  it('are BLAKE3 of the bytes, equal to an independent implementation, over parts or whole', () => {
    assert.equal(fileId(VECTOR_INPUT, 'blake3'), VECTOR_HASH);
    assert.equal(fileId([VECTOR_INPUT.subarray(0, 100), VECTOR_INPUT.subarray(100)], 'blake3'), VECTOR_HASH);
    assert.equal(fileId(VECTOR_INPUT, 'sha256'), createHash('sha256').update(VECTOR_INPUT).digest('hex'));
  });

  it('name every pack, index and snapshot of a new repository; hops accept BLAKE3 and SHA-256 names and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-ids-'));
    try {
      const store = new MemoryStore();
      const repo = await Repository.init(store, 'pw');
      await writeFile(join(dir, 'f'), randomBytes(300_000));
      await backup(repo, { paths: [dir], threads: 1 });
      const named = await namedFiles(store, 'blake3');
      assert.ok([...named.keys()].some((n) => n.startsWith('data/')) && [...named.keys()].some((n) => n.startsWith('snapshots/')));
      for (const [name, ok] of named) assert.ok(ok || name.startsWith('locks/'), `${name} is not named by its BLAKE3`);

      const bytes = Buffer.from('some file');
      assert.ok(contentMatchesId(bytes, fileId(bytes, 'blake3')));
      assert.ok(contentMatchesId([bytes.subarray(0, 4), bytes.subarray(4)], fileId(bytes, 'sha256')));
      const damaged = Buffer.from(bytes);
      damaged[0] ^= 1;
      assert.ok(!contentMatchesId(damaged, fileId(bytes, 'blake3')));
      assert.ok(!contentMatchesId(damaged, fileId(bytes, 'sha256')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('blob ids', () => {
  it('are keyed BLAKE3, equal to an independent implementation, and the same when one hasher is reused', () => {
    const idOf = blobIdFunction('blake3-keyed', VECTOR_KEY);
    assert.equal(idOf(VECTOR_INPUT), VECTOR_KEYED_HASH);
    assert.notEqual(idOf(Buffer.from('other')), VECTOR_KEYED_HASH);
    assert.equal(idOf(VECTOR_INPUT), VECTOR_KEYED_HASH);
    assert.notEqual(blobIdFunction('blake3-keyed', randomBytes(32))(VECTOR_INPUT), VECTOR_KEYED_HASH, 'the key changes every id');
  });

  it('stay HMAC-SHA-256, and file names SHA-256, in a version 1 repository, which backs up, checks and restores as before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-v1-'));
    try {
      const store = new MemoryStore();
      const made = await Repository.init(store, 'pw');
      assert.equal(made.config.version, 2);
      await store.put(CONFIG_FILE, encodeConfig({ ...(await readConfig(store)), version: 1 }));
      const repo = await Repository.open(store, 'pw');
      assert.equal(repo.blobIdScheme, 'hmac-sha256');

      const data = randomBytes(100_000); // below the minimal chunk: one blob
      await writeFile(join(dir, 'f'), data);
      const { snapshotId, snapshot } = await backup(repo, { paths: [join(dir, 'f')], threads: 1 });
      const root = decodeTree(await repo.loadBlob('tree', snapshot.tree), 'root');
      const dirTree = decodeTree(await repo.loadBlob('tree', root.nodes[0].subtree!), 'dir');
      let node = dirTree.nodes[0];
      while (node.type === 'dir') node = decodeTree(await repo.loadBlob('tree', node.subtree!), node.name).nodes[0];
      assert.deepEqual(node.content, [createHmac('sha256', repo.key.mac).update(data).digest('hex')]);
      for (const [name, ok] of await namedFiles(store, 'sha256')) assert.ok(ok, `${name} is not named by its SHA-256`);

      const reopened = await Repository.open(store, 'pw');
      assert.deepEqual((await checkRepository(reopened, { readData: true })).problems, []);
      const snap = (await reopened.listSnapshots()).find((s) => s.id === snapshotId)!;
      await restore(reopened, snap, { target: join(dir, 'out'), verify: true });
      assert.deepEqual(await readFile(join(dir, 'out', dir, 'f')), data);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
