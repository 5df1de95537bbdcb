import { DriveseedError } from '../errors.js';
import { decodePayload, encodePayload } from './compression.js';
import { open, seal } from './crypto.js';

/*
 * Index, snapshot and lock files: seal(key, codec ‖ payload, aad = "driveseed <kind> v1"). The
 * payload is JSON, except in index files of version 2, which are binary (index-file.ts).
 */

export type SealedKind = 'index' | 'snapshot' | 'lock';

/** The kind in the aad stops a file of one kind from being passed off as another. */
function aad(kind: SealedKind): Buffer {
  return Buffer.from(`driveseed ${kind} v1`, 'latin1');
}

export function encodeSealed(key: Buffer, kind: SealedKind, payload: Uint8Array): Buffer {
  return seal(key, encodePayload(payload), aad(kind));
}

/**
 * The most a sealed file's plaintext may be, from its kind and its size: what decompression
 * is bounded by. A lock is a line of JSON. A snapshot lists its paths, tags and totals; 16 MiB
 * is far past any real one. An index (version 2) is at least two-thirds random blob ids, which
 * do not compress, and a version 1 index spells them in hex JSON: eight times the file's size
 * covers both, so a large index is never refused for its size, and a 64 KB one cannot decode
 * to gigabytes.
 */
export function maxSealedPlaintext(kind: SealedKind, sealedLength: number): number {
  switch (kind) {
    case 'lock':
      return 64 * 1024;
    case 'snapshot':
      return 16 * 1024 * 1024;
    case 'index':
      return 1024 * 1024 + 8 * sealedLength;
  }
}

export function decodeSealed(key: Buffer, kind: SealedKind, bytes: Buffer, what: string): Buffer {
  return decodePayload(open(key, bytes, aad(kind), what), what, maxSealedPlaintext(kind, bytes.length));
}

export function encodeSealedJson(key: Buffer, kind: SealedKind, value: unknown): Buffer {
  return encodeSealed(key, kind, Buffer.from(JSON.stringify(value), 'utf8'));
}

export function decodeSealedJson(key: Buffer, kind: SealedKind, bytes: Buffer, what: string): unknown {
  return parseJson(decodeSealed(key, kind, bytes, what), what);
}

/** A sealed payload's JSON; CORRUPT when it is not JSON. */
export function parseJson(payload: Buffer, what: string): unknown {
  const json = payload.toString('utf8');
  try {
    return JSON.parse(json);
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: not valid JSON`, { cause });
  }
}
