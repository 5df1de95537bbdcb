import { it } from 'node:test';
import { generateMasterKey } from './crypto.js';
import { fuzz } from '../../testing/fuzz.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { keyFileInfo, writeKeyFile } from './key-file.js';
import { KEYS_DIR } from './layout.js';

it('fuzz: a key file gives its info or a DriveseedError, without running scrypt', async () => {
  const store = new MemoryStore();
  // Cheap scrypt costs: only the file's bytes are under test, not the derivation.
  const id = await writeKeyFile(store, generateMasterKey(), 'fuzz', { N: 1024, r: 8, p: 1 });
  const sample = await store.get(KEYS_DIR + id);
  fuzz({ name: 'key file', samples: [sample], decode: (input) => keyFileInfo(input, KEYS_DIR + 'fuzzed') });
});
