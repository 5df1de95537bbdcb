import { DriveseedError } from '../errors.js';
import { decodePayload, encodePayload } from './compression.js';
import { open, seal } from './crypto.js';

/* Index, snapshot and lock files: seal(key, codec ‖ JSON, aad = "driveseed <kind> v1"). */

export type SealedKind = 'index' | 'snapshot' | 'lock';

/** The kind in the aad stops a file of one kind from being passed off as another. */
function aad(kind: SealedKind): Buffer {
  return Buffer.from(`driveseed ${kind} v1`, 'latin1');
}

export function encodeSealedJson(key: Buffer, kind: SealedKind, value: unknown): Buffer {
  return seal(key, encodePayload(Buffer.from(JSON.stringify(value), 'utf8')), aad(kind));
}

export function decodeSealedJson(key: Buffer, kind: SealedKind, bytes: Buffer, what: string): unknown {
  const json = decodePayload(open(key, bytes, aad(kind), what), what).toString('utf8');
  try {
    return JSON.parse(json);
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: not valid JSON`, { cause });
  }
}
