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

export function decodeSealed(key: Buffer, kind: SealedKind, bytes: Buffer, what: string): Buffer {
  return decodePayload(open(key, bytes, aad(kind), what), what);
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
