import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup } from '../backup/archiver.js';
import { restore } from '../backup/restorer.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { checkRepository } from './check.js';
import { encodeConfig, readConfig } from './config.js';
import { blobIdFunction } from './crypto.js';
import { CONFIG_FILE } from './layout.js';
import { decodeTree } from './tree.js';
import { Repository } from './repository.js';

/** The BLAKE3 test vectors' key and input (bytes i mod 251); the hash is what Debian's b3sum 1.2.0 gives for them. */
const VECTOR_KEY = Buffer.from('whats the Elvish word for friend');
const VECTOR_INPUT = Buffer.from(Array.from({ length: 1025 }, (_, i) => i % 251));
const VECTOR_KEYED_HASH = '357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea69';

describe('blob ids', () => {
  it('are keyed BLAKE3, equal to an independent implementation, and the same when one hasher is reused', () => {
    const idOf = blobIdFunction('blake3-keyed', VECTOR_KEY);
    assert.equal(idOf(VECTOR_INPUT), VECTOR_KEYED_HASH);
    assert.notEqual(idOf(Buffer.from('other')), VECTOR_KEYED_HASH);
    assert.equal(idOf(VECTOR_INPUT), VECTOR_KEYED_HASH);
    assert.notEqual(blobIdFunction('blake3-keyed', randomBytes(32))(VECTOR_INPUT), VECTOR_KEYED_HASH, 'the key changes every id');
  });

  it('stay HMAC-SHA-256 in a version 1 repository, which backs up, checks and restores as before', async () => {
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
