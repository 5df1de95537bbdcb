import { createHash } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import { open, seal } from '../repo/crypto.js';

/*
 * The drive envelope (docs/drive-envelope.md): how staged repository files travel on a drive.
 * Every file is cut into 4 MiB blocks (as the Import/Export tool does), each block sealed with
 * the drive's own key; a sealed manifest lists files, lengths and each block's check value.
 * The key and the manifest's hash go to the service with the import job, never onto the drive.
 *
 * Version 2 takes as a block's check value the GCM tag the sealed block carries anyway
 * (version 1 hashed every plaintext block with SHA-256): the tag is a MAC under a key only the
 * copy computer and the service hold, so it proves the block as well, and diskprep no longer
 * spends a third of its CPU on a second pass over the data. Version 1 drives still import.
 */

export const ENVELOPE_FORMAT = 'driveseed-drive';
export const ENVELOPE_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
export const BLOCK_SIZE = 4 * 1024 * 1024;
export const HEADER_FILE = 'driveseed-drive.json';
export const MANIFEST_FILE = 'manifest.sealed';
export const PAYLOAD_DIR = 'payload';

/** The only clear-text file on a drive: what it is and which drive, nothing secret. */
export interface DriveHeader {
  format: typeof ENVELOPE_FORMAT;
  version: number;
  driveId: string;
  jobName: string;
  createdAt: string;
}

export interface ManifestFile {
  /** The file's name in the repository (staging directory). */
  name: string;
  length: number;
  /** Where its blocks are on the drive, relative to the drive root. */
  storedAs: string;
  /** Each block's check value, hex, in order: its GCM tag (v2), the SHA-256 of its plaintext (v1). */
  blocks: string[];
}

export interface Manifest {
  version: number;
  driveId: string;
  jobName: string;
  files: ManifestFile[];
}

/** How the import checks a block against the manifest, by envelope version. */
export type BlockCheck = 'tag' | 'sha256';

export function blockCheckOf(version: number): BlockCheck {
  return version === 1 ? 'sha256' : 'tag';
}

/** The aad is the same in both versions: it binds a block to its drive, file and place. */
export function blockAad(driveId: string, storedAs: string, index: number): Buffer {
  return Buffer.from(`driveseed block v1|${driveId}|${storedAs}|${index}`, 'utf8');
}

const MANIFEST_AAD = (driveId: string) => Buffer.from(`driveseed manifest v1|${driveId}`, 'utf8');

export function sealManifest(key: Buffer, manifest: Manifest): Buffer {
  return seal(key, Buffer.from(JSON.stringify(manifest), 'utf8'), MANIFEST_AAD(manifest.driveId));
}

export function openManifest(key: Buffer, driveId: string, sealed: Buffer): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(open(key, sealed, MANIFEST_AAD(driveId), 'manifest').toString('utf8')) as Manifest;
  } catch (e) {
    if (e instanceof DriveseedError)
      throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} does not open: wrong drive key, or the manifest is damaged`, { cause: e });
    throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} is not valid JSON`, { cause: e });
  }
  if (!READABLE_VERSIONS.includes(manifest.version)) throw new DriveseedError('UNSUPPORTED_VERSION', `manifest version ${manifest.version} is not supported`);
  if (manifest.driveId !== driveId)
    throw new DriveseedError('CORRUPT', `manifest drive id mismatch: the manifest names ${manifest.driveId}, the drive is ${driveId}`);
  return manifest;
}

export function parseHeader(text: string, where: string): DriveHeader {
  let header: DriveHeader;
  try {
    header = JSON.parse(text) as DriveHeader;
  } catch {
    throw new DriveseedError('CORRUPT', `${where}: drive header is not valid JSON`);
  }
  if (header.format !== ENVELOPE_FORMAT) throw new DriveseedError('CORRUPT', `${where} is not a driveseed drive`);
  if (!READABLE_VERSIONS.includes(header.version))
    throw new DriveseedError('UNSUPPORTED_VERSION', `${where}: drive envelope version ${header.version} is not supported`);
  return header;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sealed length of a file of `length` bytes: each block grows by the AEAD overhead. */
export function sealedLength(length: number, overhead: number): number {
  const blocks = Math.max(1, Math.ceil(length / BLOCK_SIZE));
  return length + blocks * overhead;
}
