import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../../core/errors.js';
import { KEYS_DIR } from '../../core/repo/layout.js';
import { Repository } from '../../core/repo/repository.js';
import { CountingStore } from '../../core/storage/counting.js';
import { LocalCopyStore } from '../../core/storage/local-copy.js';
import { MemoryStore } from '../../core/storage/memory/memory-store.js';
import type { ByteRange } from '../../core/storage/blob-store.js';
import { RepositoryOpener } from './repository-opener.js';

/** Opening reads each key file and runs scrypt on it: with one key file, key reads count derivations. */
class KeyReadsStore extends MemoryStore {
  keyReads = 0;

  override get(name: string, range?: ByteRange): Promise<Buffer> {
    if (name.startsWith(KEYS_DIR)) this.keyReads++;
    return super.get(name, range);
  }
}

describe('RepositoryOpener', () => {
  it('derives the key once for all the stores a run opens the repository through', async () => {
    const vault = new KeyReadsStore();
    await Repository.init(vault, 'pw');
    const opener = new RepositoryOpener('pw');
    await opener.open(vault);
    const counted = new CountingStore(vault);
    const online = await opener.openOrInit(counted);
    const overStaging = await opener.open(new LocalCopyStore(vault, new MemoryStore()));
    assert.equal(vault.keyReads, 1);
    assert.equal(online.store, counted, 'each step writes through its own store');
    assert.deepEqual(overStaging.key, online.key);
  });

  it('makes the repository on the first backup and reads no key file after it', async () => {
    const vault = new KeyReadsStore();
    const opener = new RepositoryOpener('pw');
    const made = await opener.openOrInit(vault);
    const again = await opener.openOrInit(new CountingStore(vault));
    assert.equal(vault.keyReads, 0);
    assert.equal(again.config.id, made.config.id);
  });

  it('refuses a store that holds another repository instead of using the wrong key on it', async () => {
    const first = new MemoryStore();
    const other = new MemoryStore();
    await Repository.init(first, 'pw');
    await Repository.init(other, 'pw');
    const opener = new RepositoryOpener('pw');
    await opener.open(first);
    await assert.rejects(opener.open(other), (e) => isDriveseedError(e, 'CONFLICT'));
  });

  it('still refuses a wrong password on the first open', async () => {
    const vault = new MemoryStore();
    await Repository.init(vault, 'pw');
    await assert.rejects(new RepositoryOpener('not it').open(vault), (e) => isDriveseedError(e, 'WRONG_PASSWORD'));
  });
});
