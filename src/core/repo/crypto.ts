import {
  createCipheriv,
  createDecipheriv,
  type Cipher,
  type Decipher,
  createHmac,
  randomBytes,
  randomFillSync,
  scrypt as scryptCb,
  webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import { DriveseedError } from '../errors.js';
import { blake3Binding, bufferView } from './blake3.js';

const scrypt = promisify(scryptCb) as (
  password: string | Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Bytes a sealed message is longer than its plaintext. */
export const SEAL_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

/**
 * The repository's secrets. Only the data owner (the agent) ever holds them; every other hop
 * moves ciphertext and verifies files by the hashes they are named by.
 */
export interface MasterKey {
  /** AES-256-GCM key for every blob and every repository file. */
  encryption: Buffer;
  /** The key of the keyed hash that makes blob ids, so ids do not reveal plaintext hashes. */
  mac: Buffer;
  /** Seeds the chunker's gear table, so chunk boundaries do not fingerprint content. */
  chunkerSeed: Buffer;
}

export function generateMasterKey(): MasterKey {
  return { encryption: randomBytes(32), mac: randomBytes(32), chunkerSeed: randomBytes(32) };
}

const CIPHER_STEP = 16 * 1024;

/**
 * Runs `input` through a cipher in 16 KiB steps, copying each piece into `out` at `at`;
 * returns where the output ends. One update() over megabytes makes its output a fresh
 * allocation that size, and the page faults of that allocation cost more system time than
 * the AES itself (measured here: 1.8 s of system time per 2 GB in 4 MiB updates, 0.1 s in
 * 16 KiB steps, for the same 1.1 s of user time).
 */
export function cipherInto(cipher: Cipher | Decipher, input: Uint8Array, out: Uint8Array, at: number): number {
  for (let offset = 0; offset < input.length; offset += CIPHER_STEP) {
    const piece = cipher.update(input.subarray(offset, offset + CIPHER_STEP));
    out.set(piece, at);
    at += piece.length;
  }
  return at;
}

/**
 * Nonces come from the CSPRNG in batches: one randomFillSync for 1024 of them instead of one
 * per blob (about a microsecond each, tens of thousands of times per backup). Each nonce is
 * used once; the bytes are the same random bytes either way.
 */
const NONCE_BATCH = 1024;
const noncePool = Buffer.allocUnsafe(NONCE_LENGTH * NONCE_BATCH);
let nonceAt = noncePool.length;

/** Writes a fresh random nonce at out[at]; returns a view of it. */
function nonceInto(out: Buffer, at: number): Buffer {
  if (nonceAt === noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  noncePool.copy(out, at, nonceAt, nonceAt + NONCE_LENGTH);
  nonceAt += NONCE_LENGTH;
  return out.subarray(at, at + NONCE_LENGTH);
}

/** nonce ‖ AES-256-GCM(plaintext, aad) ‖ tag. A fresh random nonce per message. */
export function seal(key: Buffer, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plaintext.length);
  const nonce = nonceInto(out, 0);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  let at = cipherInto(cipher, plaintext, out, NONCE_LENGTH);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/**
 * seal() written into `out` at `at` instead of a fresh buffer (SEAL_OVERHEAD + plaintext.length
 * bytes): chunk workers seal straight into the pack they are building.
 */
export function sealInto(key: Buffer, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, at: number): number {
  const start = at;
  const nonce = nonceInto(out, at);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  at = cipherInto(cipher, plaintext, out, at + NONCE_LENGTH);
  at += cipher.final().copy(out, at);
  at += cipher.getAuthTag().copy(out, at);
  return at - start;
}

/** Inverse of seal; throws CORRUPT when the tag does not verify (tampered, wrong key, wrong aad). */
export function open(key: Buffer, sealed: Uint8Array, aad: Uint8Array, what: string): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new DriveseedError('CORRUPT', `${what}: too short to be encrypted data`);
  return openInto(key, sealed, aad, what, Buffer.allocUnsafe(sealed.length - SEAL_OVERHEAD));
}

/**
 * open() into `out` (at least sealed.length - SEAL_OVERHEAD bytes); returns the view of `out`
 * that holds the plaintext. Restore workers reuse one buffer: a fresh one per blob cost a
 * page-faulting allocation each (restore made three times restic's minor faults).
 */
export function openInto(key: Buffer, sealed: Uint8Array, aad: Uint8Array, what: string, out: Buffer): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new DriveseedError('CORRUPT', `${what}: too short to be encrypted data`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_LENGTH));
  decipher.setAAD(aad);
  decipher.setAuthTag(buf.subarray(buf.length - TAG_LENGTH));
  try {
    const end = cipherInto(decipher, buf.subarray(NONCE_LENGTH, buf.length - TAG_LENGTH), out, 0);
    decipher.final();
    return out.subarray(0, end);
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: authentication failed (data damaged or tampered)`, { cause });
  }
}

/**
 * How a repository makes blob ids from plaintext (docs/format.md, Cryptography): keyed BLAKE3
 * since repository version 2, HMAC-SHA-256 in version 1 (still read and written).
 */
export type BlobIdScheme = 'blake3-keyed' | 'hmac-sha256';

export type BlobIdFunction = (plaintext: Uint8Array) => string;

/**
 * The id function of a scheme and key. A keyed BLAKE3 hasher is made once and reset per blob:
 * making one per blob cost 13 µs (a 4 KiB blob hashes in 1.7 µs).
 */
export function blobIdFunction(scheme: BlobIdScheme, macKey: Buffer): BlobIdFunction {
  if (scheme === 'hmac-sha256') return (plaintext) => createHmac('sha256', macKey).update(plaintext).digest('hex');
  const hasher = blake3Binding().Blake3Hasher.newKeyed(macKey);
  return (plaintext) => {
    hasher.reset();
    return hasher.update(bufferView(plaintext)).digest('hex');
  };
}

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** scrypt N=2^15, r=8, p=1: about 32 MiB and a tenth of a second, as restic uses. */
export const DEFAULT_KDF: KdfParams = { N: 1 << 15, r: 8, p: 1 };

export async function deriveKey(password: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return scrypt(password.normalize('NFC'), salt, 32, { ...params, maxmem });
}

/** A key for sealOffThread. */
export async function importAeadKey(key: Buffer): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
}

/**
 * The same seal, computed on libuv's thread pool (WebCrypto) instead of the main thread, so
 * bulk copies (drive preparation, import) keep both cores busy. WebCrypto's AES-GCM output is
 * ciphertext ‖ tag, so nonce ‖ that is byte for byte what `seal` makes. Returns
 * [nonce, ciphertext ‖ tag]: two parts, written back to back without a copy.
 */
export async function sealOffThread(key: CryptoKey, plaintext: Uint8Array, aad: Uint8Array): Promise<[Buffer, Buffer]> {
  const nonce = randomBytes(NONCE_LENGTH);
  const body = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_LENGTH * 8 }, key, plaintext);
  return [nonce, Buffer.from(body)];
}
