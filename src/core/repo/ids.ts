import { createHash } from 'node:crypto';
import { blake3Binding, bufferView } from './blake3.js';

/** Ids are 32-byte values written as 64 lower-case hex characters everywhere in the format. */
export type Id = string;

const ID_PATTERN = /^[0-9a-f]{64}$/;

export function isId(value: unknown): value is Id {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * How a repository names its files by their content (docs/format.md, Layout): BLAKE3 since
 * repository version 2, SHA-256 in version 1. Either way any hop can verify a file without a key.
 */
export type FileIdScheme = 'blake3' | 'sha256';

type FileBytes = Uint8Array | readonly Uint8Array[];

function partsOf(bytes: FileBytes): readonly Uint8Array[] {
  return Array.isArray(bytes) ? (bytes as readonly Uint8Array[]) : [bytes as Uint8Array];
}

/** The storage id of a repository file: the hash of its bytes under the repository's scheme. */
export function fileId(bytes: FileBytes, scheme: FileIdScheme): Id {
  if (scheme === 'sha256') {
    const hash = createHash('sha256');
    for (const part of partsOf(bytes)) hash.update(part);
    return hash.digest('hex');
  }
  const hasher = new (blake3Binding().Blake3Hasher)();
  for (const part of partsOf(bytes)) hasher.update(bufferView(part));
  return hasher.digest('hex');
}

/**
 * Whether a file's bytes hash to the id its name promises, under either scheme: hops that
 * move repository files (vault uploads, drives, seed copies) do not read the repository's
 * version. BLAKE3 first, the cheaper hash and the current version's; SHA-256 only when that
 * fails (a version 1 repository, or a damaged file).
 */
export function contentMatchesId(bytes: FileBytes, id: Id): boolean {
  return fileId(bytes, 'blake3') === id || fileId(bytes, 'sha256') === id;
}

/** contentMatchesId for bytes that go by in parts and are not kept (a streamed copy): both hashes at once. */
export function contentCheck(): { update(part: Uint8Array): void; matches(id: Id): boolean } {
  const blake3 = new (blake3Binding().Blake3Hasher)();
  const sha256 = createHash('sha256');
  return {
    update(part) {
      blake3.update(bufferView(part));
      sha256.update(part);
    },
    matches: (id) => blake3.digest('hex') === id || sha256.digest('hex') === id,
  };
}

export function shortId(id: Id): string {
  return id.slice(0, 8);
}
