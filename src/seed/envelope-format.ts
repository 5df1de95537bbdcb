import { createHash } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import { open, seal } from '../repo/crypto.js';

/**
 * The drive envelope (docs/drive-envelope.md): how staged repository files travel on a drive.
 * Every file is cut into 4 MiB blocks (as the Import/Export tool does), each block sealed with
 * the drive's own key; a sealed manifest lists files, lengths and a SHA-256 per block. The key
 * and the manifest's hash go to the service with the import job, never onto the drive.
 */
export const ENVELOPE_FORMAT = 'driveseed-drive';
export const ENVELOPE_VERSION = 1;
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
  /** SHA-256 (hex) of each plaintext block, in order. */
  blocks: string[];
}

export interface Manifest {
  version: number;
  driveId: string;
  jobName: string;
  files: ManifestFile[];
}

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
    if (e instanceof DriveseedError) throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} does not open: wrong drive key, or the manifest is damaged`, { cause: e });
    throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} is not valid JSON`, { cause: e });
  }
  if (manifest.version !== ENVELOPE_VERSION) throw new DriveseedError('UNSUPPORTED_VERSION', `manifest version ${manifest.version} is not supported`);
  if (manifest.driveId !== driveId) throw new DriveseedError('CORRUPT', `manifest drive id mismatch: the manifest names ${manifest.driveId}, the drive is ${driveId}`);
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
  if (header.version !== ENVELOPE_VERSION) throw new DriveseedError('UNSUPPORTED_VERSION', `${where}: drive envelope version ${header.version} is not supported`);
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
