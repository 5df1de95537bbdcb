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
