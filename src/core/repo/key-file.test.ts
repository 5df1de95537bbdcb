import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../errors.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { generateMasterKey } from './crypto.js';
import { openMasterKey, writeKeyFile } from './key-file.js';
import { KEYS_DIR } from './layout.js';

/** Cheap scrypt, so every bit of a key file can be flipped in a test. */
const FAST_KDF = { N: 16, r: 1, p: 1 };
const PASSWORD = 'correct horse';

async function keyFileStore(): Promise<{ store: MemoryStore; name: string; bytes: Buffer }> {
  const store = new MemoryStore();
  const id = await writeKeyFile(store, generateMasterKey(), PASSWORD, FAST_KDF);
  const name = KEYS_DIR + id;
  return { store, name, bytes: await store.get(name) };
}

/** What opening gives with `bytes` as the repository's only key file: ok, or the DriveseedError's code (anything else fails the test). */
async function outcome(name: string, bytes: Buffer): Promise<string> {
  const store = new MemoryStore();
  await store.put(name, bytes);
  try {
    await openMasterKey(store, PASSWORD);
    return 'ok';
  } catch (e) {
    assert.ok(isDriveseedError(e), `not a DriveseedError for ${JSON.stringify(bytes.toString())}: ${(e as Error).stack}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.code;
  }
}

describe('key files, damaged', () => {
  it('a flipped bit anywhere in a key file is CORRUPT, WRONG_PASSWORD or harmless, never an unexpected error', async (t) => {
    const { name, bytes } = await keyFileStore();
    const seen = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 1 << bit;
        const code = await outcome(name, flipped);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    t.diagnostic(`${bytes.length * 8} flips: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.deepEqual(
      [...seen.keys()].filter((c) => !['ok', 'CORRUPT', 'WRONG_PASSWORD', 'UNSUPPORTED_VERSION'].includes(c)),
      [],
    );
    assert.ok((seen.get('CORRUPT') ?? 0) > 0);
  });

  it('names the damaged field for scrypt parameters, null and other non-objects', async () => {
    const { name, bytes } = await keyFileStore();
    const file = JSON.parse(bytes.toString()) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [{ ...file, N: 17 }, /damaged \(N\)/],
      [{ ...file, N: 2 ** 40 }, /damaged \(N\)/],
      [{ ...file, p: 1e6 }, /damaged \(p\)/],
      [{ ...file, r: 0 }, /damaged \(r\)/],
      [{ ...file, N: 1 << 22, r: 64 }, /more than 1 GiB/],
      [{ ...file, salt: 7 }, /damaged \(salt\)/],
      [{ ...file, data: null }, /damaged \(data\)/],
      [null, /not a JSON object/],
      [[1, 2], /not a JSON object/],
      ['key', /not a JSON object/],
    ];
    for (const [value, message] of cases) {
      const store = new MemoryStore();
      await store.put(name, Buffer.from(JSON.stringify(value)));
      await assert.rejects(openMasterKey(store, PASSWORD), (e) => isDriveseedError(e, 'CORRUPT') && message.test(e.message), JSON.stringify(value));
    }
  });

  it('opens the repository with an intact key file when another is damaged', async () => {
    const { store, name } = await keyFileStore();
    await store.put(`${KEYS_DIR}${'0'.repeat(64)}`, Buffer.from('null'));
    const master = await openMasterKey(store, PASSWORD);
    assert.equal(master.encryption.length, 32);
    await assert.rejects(openMasterKey(store, 'wrong'), (e) => isDriveseedError(e, 'WRONG_PASSWORD') && /damaged/.test(e.hint ?? ''));
    await store.delete(name);
    await assert.rejects(openMasterKey(store, PASSWORD), (e) => isDriveseedError(e, 'CORRUPT'));
  });
});
