import type { Id } from './ids.js';

/** Where each kind of repository file lives in the blob store (docs/format.md, "Layout"). */
export const CONFIG_FILE = 'config';
export const KEYS_DIR = 'keys/';
export const DATA_DIR = 'data/';
export const INDEX_DIR = 'index/';
export const SNAPSHOTS_DIR = 'snapshots/';
export const LOCKS_DIR = 'locks/';

/** Packs fan out over 256 folders so no directory (or drive folder) holds millions of files. */
export function packName(id: Id): string {
  return `${DATA_DIR}${id.slice(0, 2)}/${id}`;
}

export function idFromName(name: string): Id {
  return name.slice(name.lastIndexOf('/') + 1);
}

const CONTENT_ADDRESSED = /^(data\/[0-9a-f]{2}|index|snapshots|locks)\/([0-9a-f]{64})$/;

/**
 * The hash a file's name promises for its (encrypted) content, for the files named that way;
 * any hop (vault upload, seed copy) can verify them without the repository key (ids.ts,
 * contentMatchesId).
 */
export function expectedContentHash(name: string): string | undefined {
  return CONTENT_ADDRESSED.exec(name)?.[2];
}

/** Locks belong to the writer that made them; copies of a repository leave them behind. */
export function isLockFile(name: string): boolean {
  return name.startsWith(LOCKS_DIR);
}
