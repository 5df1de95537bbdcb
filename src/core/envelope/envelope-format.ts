import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
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

/*
 * A drive is read as hostile: its owner knows the drive key and can seal any manifest. So
 * what the import reads is bounded before it is read, and a manifest that promises more
 * than its drive holds, or more than the job registered, is refused before anything is
 * written (docs/drive-envelope.md, "Import").
 */
/** The clear-text header is a few hundred bytes. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** A full 10 TB drive of 16 MiB packs lists some 600,000 files, about 300 bytes each. */
export const MAX_MANIFEST_FILES = 1_000_000;
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;
/** A repository file is at most a pack (16 MiB) or an index file; the import holds a few whole. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * How the import opens anything on a drive: no link followed at the last component, and no
 * wait for a writer (a FIFO) or a device. The caller still checks with fstat that it is a
 * regular file before reading a byte.
 */
export const DRIVE_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** A file whose every block opened and matched, yet which is not what its name promises: damaged before it was sealed. */
export const CONTENT_MISMATCH = 'content does not match its name';

/** Where diskprep puts a file's blocks: `payload/` and its number. */
const STORED_AS = /^payload\/[0-9]{6,9}$/;
/** The names a repository's files have (format.md, "Layout"); locks never travel. */
const REPOSITORY_FILE = /^(?:config|keys\/[0-9a-f]{64}|index\/[0-9a-f]{64}|snapshots\/[0-9a-f]{64}|data\/([0-9a-f]{2})\/\1[0-9a-f]{62})$/;

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
  let plaintext: Buffer;
  try {
    plaintext = open(key, sealed, MANIFEST_AAD(driveId), 'manifest');
  } catch (e) {
    throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} does not open: wrong drive key, or the manifest is damaged`, { cause: e });
  }
  return decodeManifest(plaintext, driveId);
}

/** A manifest's plaintext, checked whole before anything is imported: its owner can seal any. */
export function decodeManifest(plaintext: Buffer, driveId: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(plaintext.toString('utf8')) as Manifest;
  } catch (e) {
    throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} is not valid JSON`, { cause: e });
  }
  if (typeof manifest !== 'object' || manifest === null) throw new DriveseedError('CORRUPT', `manifest of drive ${driveId} is not a JSON object`);
  if (!READABLE_VERSIONS.includes(manifest.version))
    throw new DriveseedError('UNSUPPORTED_VERSION', `manifest version ${JSON.stringify(manifest.version)} is not supported`);
  if (manifest.driveId !== driveId)
    throw new DriveseedError('CORRUPT', `manifest drive id mismatch: the manifest names ${JSON.stringify(manifest.driveId)}, the drive is ${driveId}`);
  checkManifestFiles(manifest.files, `manifest of drive ${driveId}`);
  return manifest;
}

/** The number of blocks a file of `length` bytes is cut into: an empty file is one empty block. */
export function blockCount(length: number): number {
  return Math.max(1, Math.ceil(length / BLOCK_SIZE));
}

/**
 * Every entry of a manifest, checked before any is imported: a repository file's name, a
 * payload place of diskprep's own form (so no entry reaches outside the drive's payload
 * folder), a length within bounds, one check value per block, and no name or place twice.
 */
function checkManifestFiles(files: unknown, what: string): asserts files is ManifestFile[] {
  if (!Array.isArray(files)) throw new DriveseedError('CORRUPT', `${what} has no file list`);
  if (files.length > MAX_MANIFEST_FILES)
    throw new DriveseedError('CORRUPT', `${what} lists ${files.length} files, more than ${MAX_MANIFEST_FILES} a drive may hold`);
  const names = new Set<string>();
  const places = new Set<string>();
  for (const [i, file] of (files as Partial<ManifestFile>[]).entries()) {
    const bad = (why: string) => new DriveseedError('CORRUPT', `${what}: file ${i} ${why}`);
    if (typeof file !== 'object' || file === null) throw bad('is not an object');
    if (typeof file.name !== 'string' || !REPOSITORY_FILE.test(file.name)) throw bad('is not named as a repository file');
    if (typeof file.storedAs !== 'string' || !STORED_AS.test(file.storedAs)) throw bad(`(${file.name}) is not stored in the drive's payload folder`);
    if (!Number.isSafeInteger(file.length) || file.length! < 0 || file.length! > MAX_FILE_BYTES)
      throw bad(`(${file.name}) has a length that is not a whole number of bytes up to ${MAX_FILE_BYTES}`);
    if (!Array.isArray(file.blocks) || file.blocks.length !== blockCount(file.length!) || !file.blocks.every((b) => typeof b === 'string'))
      throw bad(`(${file.name}) does not list one check value for each of its ${blockCount(file.length!)} blocks`);
    if (names.has(file.name)) throw bad(`(${file.name}) is listed twice`);
    if (places.has(file.storedAs)) throw bad(`(${file.name}) shares its place ${file.storedAs} with another file`);
    names.add(file.name);
    places.add(file.storedAs);
  }
}

/** What diskprep names drives (UUIDs), and what a header's drive id may be. */
const DRIVE_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function parseHeader(text: string, where: string): DriveHeader {
  let header: DriveHeader;
  try {
    header = JSON.parse(text) as DriveHeader;
  } catch {
    throw new DriveseedError('CORRUPT', `${where}: drive header is not valid JSON`);
  }
  if (typeof header !== 'object' || header === null || header.format !== ENVELOPE_FORMAT)
    throw new DriveseedError('CORRUPT', `${where} is not a driveseed drive`);
  if (!READABLE_VERSIONS.includes(header.version))
    throw new DriveseedError('UNSUPPORTED_VERSION', `${where}: drive envelope version ${JSON.stringify(header.version)} is not supported`);
  // The drive id goes into the customer-visible drive log and into error lines: one token.
  if (typeof header.driveId !== 'string' || !DRIVE_ID.test(header.driveId)) throw new DriveseedError('CORRUPT', `${where}: drive header has no valid drive id`);
  return header;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sealed length of a file of `length` bytes: each block grows by the AEAD overhead. */
export function sealedLength(length: number, overhead: number): number {
  return length + blockCount(length) * overhead;
}
