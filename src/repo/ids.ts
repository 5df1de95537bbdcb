import { createHash } from 'node:crypto';

/** Ids are 32-byte values written as 64 lower-case hex characters everywhere in the format. */
export type Id = string;

const ID_PATTERN = /^[0-9a-f]{64}$/;

export function isId(value: unknown): value is Id {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** The storage id of a repository file: SHA-256 of its bytes, so any hop can verify it without a key. */
export function fileId(bytes: Uint8Array | readonly Uint8Array[]): Id {
  const hash = createHash('sha256');
  for (const part of Array.isArray(bytes) ? bytes : [bytes]) hash.update(part);
  return hash.digest('hex');
}

export function shortId(id: Id): string {
  return id.slice(0, 8);
}
