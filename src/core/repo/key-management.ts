import { DriveseedError } from '../errors.js';
import { listAll, type BlobStore } from '../storage/blob-store.js';
import type { MasterKey } from './crypto.js';
import { keyFileInfo, writeKeyFile, type KeyFileInfo } from './key-file.js';
import { KEYS_DIR } from './layout.js';

/**
 * The repository's passwords (restic's and borg's key management, MARS's change passphrase):
 * each key file wraps the one master key with one password, so adding, removing or changing a
 * password rewrites one small file and never touches the data. The last key cannot go, nor
 * the one in use (restic's rule): either would leave no way in that the user has proved.
 */
export async function listKeys(store: BlobStore): Promise<KeyFileInfo[]> {
  const files = await listAll(store, KEYS_DIR);
  const keys = await Promise.all(files.map(async (f) => keyFileInfo(await store.get(f.name), f.name)));
  return keys.sort((a, b) => a.created.localeCompare(b.created));
}

/** A new key file for `password`; its id. */
export function addKey(store: BlobStore, master: MasterKey, password: string): Promise<string> {
  return writeKeyFile(store, master, password);
}

/** Removes the key `idOrPrefix`; refuses the key in use and the last key. Returns the full id. */
export async function removeKey(store: BlobStore, idOrPrefix: string, inUse: string): Promise<string> {
  const keys = await listKeys(store);
  const matches = keys.filter((k) => k.id.startsWith(idOrPrefix));
  if (matches.length === 0) throw new DriveseedError('NOT_FOUND', `no key ${idOrPrefix} in ${store.location}`, { hint: 'list them with `driveseed key list`' });
  if (matches.length > 1) throw new DriveseedError('AMBIGUOUS', `${matches.length} keys start with ${idOrPrefix}`, { hint: 'give more of the id' });
  const [key] = matches;
  if (keys.length === 1)
    throw new DriveseedError('CONFLICT', `key ${key.id.slice(0, 8)} is the repository's last key: without it nothing could open the repository`);
  if (key.id === inUse)
    throw new DriveseedError('CONFLICT', `key ${key.id.slice(0, 8)} is the one this password opened`, {
      hint: 'open with another password to remove it, or change this one with `driveseed key passwd`',
    });
  await store.delete(KEYS_DIR + key.id);
  return key.id;
}

/** Replaces the key in use by one for `newPassword`: the new key is written before the old one goes. */
export async function changePassword(store: BlobStore, master: MasterKey, inUse: string, newPassword: string): Promise<string> {
  const id = await addKey(store, master, newPassword);
  await store.delete(KEYS_DIR + inUse);
  return id;
}
