import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DriveseedError, isDriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { DEFAULT_KDF, deriveKey, open, seal, type KdfParams, type MasterKey } from './crypto.js';
import { fileId } from './ids.js';
import { KEYS_DIR } from './layout.js';
import { currentUsername } from '../util/current-user.js';

const KEY_AAD = Buffer.from('driveseed key v1', 'latin1');
export const KEY_FILE_VERSION = 1;

/**
 * A key file wraps the master key with a key derived from one password. Several key files
 * can exist (one per password), as in restic; any one of them opens the repository.
 */
interface KeyFile {
  version: number;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  created: string;
  hostname: string;
  username: string;
  /** base64 of seal(derived key, JSON of the master key, aad "driveseed key v1"). */
  data: string;
}

interface MasterKeyJson {
  encryption: string;
  mac: string;
  chunkerSeed: string;
}

export async function writeKeyFile(store: BlobStore, master: MasterKey, password: string, kdf: KdfParams = DEFAULT_KDF): Promise<string> {
  const salt = randomBytes(32);
  const wrapping = await deriveKey(password, salt, kdf);
  const secret: MasterKeyJson = {
    encryption: master.encryption.toString('base64'),
    mac: master.mac.toString('base64'),
    chunkerSeed: master.chunkerSeed.toString('base64'),
  };
  const file: KeyFile = {
    version: KEY_FILE_VERSION,
    kdf: 'scrypt',
    ...kdf,
    salt: salt.toString('base64'),
    created: new Date().toISOString(),
    hostname: hostname(),
    username: currentUsername(),
    data: seal(wrapping, Buffer.from(JSON.stringify(secret)), KEY_AAD).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 2) + '\n');
  // Key files are named by SHA-256 in every version: the name only has to be unique, nobody
  // verifies it, and it is written before a reader could know the repository's version.
  const id = fileId(bytes, 'sha256');
  await store.put(KEYS_DIR + id, bytes);
  return id;
}

/** Tries every key file; WRONG_PASSWORD if none opens. */
export async function openMasterKey(store: BlobStore, password: string): Promise<MasterKey> {
  return (await openKeyFile(store, password)).master;
}

/** What a key file tells without the password: for `key list`. */
export interface KeyFileInfo {
  id: string;
  created: string;
  hostname: string;
  username: string;
}

export function keyFileInfo(bytes: Buffer, name: string): KeyFileInfo {
  const file = parseKeyFile(bytes, name);
  return { id: name.slice(KEYS_DIR.length), created: file.created, hostname: file.hostname, username: file.username };
}

/** As openMasterKey, also naming the key file the password opened (the one `key passwd` replaces). */
export async function openKeyFile(store: BlobStore, password: string): Promise<{ master: MasterKey; keyId: string }> {
  let tried = 0;
  // A damaged key file does not keep another from opening the repository.
  const damaged: DriveseedError[] = [];
  for await (const info of store.list(KEYS_DIR)) {
    let file: KeyFile;
    try {
      file = parseKeyFile(await store.get(info.name), info.name);
    } catch (e) {
      if (!isDriveseedError(e, 'CORRUPT')) throw e;
      damaged.push(e);
      continue;
    }
    tried++;
    const wrapping = await deriveKey(password, Buffer.from(file.salt, 'base64'), file);
    let plaintext: Buffer;
    try {
      plaintext = open(wrapping, Buffer.from(file.data, 'base64'), KEY_AAD, info.name);
    } catch {
      continue;
    }
    const secret = JSON.parse(plaintext.toString('utf8')) as MasterKeyJson;
    const master = {
      encryption: Buffer.from(secret.encryption, 'base64'),
      mac: Buffer.from(secret.mac, 'base64'),
      chunkerSeed: Buffer.from(secret.chunkerSeed, 'base64'),
    };
    return { master, keyId: info.name.slice(KEYS_DIR.length) };
  }
  if (tried === 0 && damaged.length > 0) throw damaged[0]!;
  if (tried === 0) throw new DriveseedError('CORRUPT', `${store.location}: repository has no key files`);
  throw new DriveseedError('WRONG_PASSWORD', `wrong password for repository ${store.location}`, {
    hint: `check DRIVESEED_PASSWORD or --password-file${damaged.length > 0 ? `; ${damaged.map((e) => e.message).join('; ')}` : ''}`,
  });
}

/** scrypt's costs a key file may ask for: a damaged N, r or p must not make a password check take minutes or gigabytes. */
const MAX_SCRYPT_N = 1 << 22;
const MAX_SCRYPT_R = 64;
const MAX_SCRYPT_P = 64;
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

/**
 * A key file is read before anything can be verified, so every field is checked for what it
 * must be: a damaged one (a flipped bit) is CORRUPT in one line, never a TypeError or an
 * scrypt RangeError from deep inside, and never an scrypt that runs for minutes.
 */
function parseKeyFile(bytes: Buffer, name: string): KeyFile {
  let file: unknown;
  try {
    file = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DriveseedError('CORRUPT', `${name}: key file is not valid JSON`);
  }
  const damaged = (what: string) =>
    new DriveseedError('CORRUPT', `${name}: key file is damaged (${what})`, { hint: 'restore it from a copy, or open the repository with another key' });
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw damaged('not a JSON object');
  const fields = file as Record<string, unknown>;
  if (typeof fields.version !== 'number') throw damaged('version');
  if (fields.version !== KEY_FILE_VERSION || fields.kdf !== 'scrypt') {
    throw new DriveseedError(
      'UNSUPPORTED_VERSION',
      `${name}: key file version ${JSON.stringify(fields.version)} (${JSON.stringify(fields.kdf)}) is not supported`,
    );
  }
  const { N, r, p, salt, data } = fields;
  if (!isInteger(N, 2, MAX_SCRYPT_N) || (N & (N - 1)) !== 0) throw damaged('N');
  if (!isInteger(r, 1, MAX_SCRYPT_R)) throw damaged('r');
  if (!isInteger(p, 1, MAX_SCRYPT_P)) throw damaged('p');
  if (128 * N * r > MAX_SCRYPT_MEMORY) throw damaged('N and r ask for more than 1 GiB');
  if (!isBase64(salt) || Buffer.from(salt, 'base64').length < 16) throw damaged('salt');
  if (!isBase64(data)) throw damaged('data');
  return fields as unknown as KeyFile;
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0;
}
