import { DriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { BlobIdScheme } from './crypto.js';
import type { FileIdScheme } from './ids.js';
import { CONFIG_FILE } from './layout.js';

export const REPOSITORY_FORMAT = 'driveseed-repository';
/** What new repositories are made as. Version 2 made its ids BLAKE3 (docs/format.md). */
export const REPOSITORY_VERSION = 2;

/** How a version makes blob ids (keyed, from plaintext) and file names (from the stored bytes). */
export interface IdSchemes {
  blobIds: BlobIdScheme;
  fileIds: FileIdScheme;
}

/** Versions this driveseed reads and writes: they differ only in their id schemes. */
const ID_SCHEMES: Record<number, IdSchemes> = {
  1: { blobIds: 'hmac-sha256', fileIds: 'sha256' },
  2: { blobIds: 'blake3-keyed', fileIds: 'blake3' },
};

/**
 * The only repository file in clear: it says what the store holds and in which version, so
 * a reader can refuse a newer format before asking for a password.
 */
export interface RepositoryConfig {
  format: typeof REPOSITORY_FORMAT;
  version: number;
  id: string;
  created: string;
}

export async function readConfig(store: BlobStore): Promise<RepositoryConfig> {
  let bytes: Buffer;
  try {
    bytes = await store.get(CONFIG_FILE);
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND') {
      throw new DriveseedError('NOT_A_REPOSITORY', `${store.location} is not a driveseed repository (no config file)`, {
        hint: 'create one with `driveseed init --repo LOC`',
      });
    }
    throw e;
  }
  return parseConfig(bytes, store.location);
}

/** A config file's bytes, checked: the first thing a reader reads, so anything but a config is one line. */
export function parseConfig(bytes: Buffer, location: string): RepositoryConfig {
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DriveseedError('NOT_A_REPOSITORY', `${location}: config file is not valid JSON`);
  }
  const fields = (typeof config === 'object' && config !== null ? config : {}) as Partial<RepositoryConfig>;
  if (fields.format !== REPOSITORY_FORMAT) {
    throw new DriveseedError('NOT_A_REPOSITORY', `${location} is not a driveseed repository`);
  }
  if (typeof fields.version !== 'number' || !Object.hasOwn(ID_SCHEMES, fields.version)) {
    throw new DriveseedError(
      'UNSUPPORTED_VERSION',
      `${location} uses repository format version ${JSON.stringify(fields.version)}; this driveseed reads versions 1 to ${REPOSITORY_VERSION}`,
      { hint: 'upgrade driveseed' },
    );
  }
  if (typeof fields.id !== 'string' || !/^[0-9a-f]{64}$/.test(fields.id)) throw new DriveseedError('CORRUPT', `${location}: config file has no repository id`);
  return fields as RepositoryConfig;
}

export function idSchemesOf(config: RepositoryConfig): IdSchemes {
  return ID_SCHEMES[config.version];
}

export function encodeConfig(config: RepositoryConfig): Buffer {
  return Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8');
}
