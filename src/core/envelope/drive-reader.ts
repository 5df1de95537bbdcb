import { DriveseedError } from '../errors.js';
import { mapLimited, Semaphore } from '../util/semaphore.js';
import { WorkerPool } from '../util/worker-pool.js';
import type { OpenReply, OpenRequest } from './open-worker.js';
import type { BlobStore } from '../storage/blob-store.js';
import { openDriveSource, type DriveSource, type EntryLocation } from './drive-medium.js';
import { SEAL_OVERHEAD } from '../repo/crypto.js';
import {
  blockCheckOf,
  HEADER_FILE,
  MANIFEST_FILE,
  MAX_HEADER_BYTES,
  MAX_MANIFEST_BYTES,
  openManifest,
  parseHeader,
  sealedLength,
  sha256,
  type BlockCheck,
  type ManifestFile,
} from './envelope-format.js';

/** What the import found wrong, by file and block: the drive's error log. */
export interface ImportProblem {
  file?: string;
  block?: number;
  reason: string;
}

export interface DriveImportReport {
  driveId: string;
  filesImported: number;
  bytesImported: number;
  problems: ImportProblem[];
  /** One line per file, for the verbose log. */
  verbose: string[];
}

/** What the job registered for a drive: its key, its manifest's hash, and what the manifest lists. */
export interface DriveKeys {
  driveId: string;
  key: string;
  manifestSha256: string;
  files: number;
  /** The files' plaintext bytes, summed. */
  bytes: number;
}

/** Names a repository file carries when it is named by the hash of its bytes (repo/ids.ts). */
const HASHED_NAME = /(?:^|\/)([0-9a-f]{64})$/;

export interface ImportOptions {
  /** Files the container holds already are not written again: a killed import resumes. */
  skipExisting?: boolean;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/**
 * The data centre's import of one drive: unlock with the key registered with the job, check
 * the manifest's hash and drive id, then every block, and write each file that is whole into
 * the target container. A damaged file is named (with its block) and left out, never written
 * half; the rest of the drive still imports.
 */
export async function importDrive(drivePath: string, expected: DriveKeys, target: BlobStore, options: ImportOptions = {}): Promise<DriveImportReport> {
  const report: DriveImportReport = { driveId: expected.driveId, filesImported: 0, bytesImported: 0, problems: [], verbose: [] };
  // Named by id, never by its path here: these messages go into the customer's drive log.
  const label = `drive ${expected.driveId}`;
  const drive = await openDriveSource(drivePath, label);
  const header = await readDriveHeader(drive, label);
  if (header.driveId !== expected.driveId) {
    throw new DriveseedError('CORRUPT', `manifest drive id mismatch: the drive is ${header.driveId}, the job expects ${expected.driveId}`);
  }
  const sealedManifest = await drive.read(MANIFEST_FILE, MAX_MANIFEST_BYTES);
  if (!sealedManifest) throw new DriveseedError('CORRUPT', `manifest missing on drive ${header.driveId}`);
  if (sha256(sealedManifest) !== expected.manifestSha256)
    throw new DriveseedError('CORRUPT', `manifest corrupted on drive ${header.driveId}: its hash differs from the one registered with the job`);
  const manifest = openManifest(Buffer.from(expected.key, 'base64'), header.driveId, sealedManifest);
  if (manifest.version !== header.version)
    throw new DriveseedError('CORRUPT', `drive ${header.driveId}: its header says envelope version ${header.version}, its manifest ${manifest.version}`);
  const check = blockCheckOf(manifest.version);
  const bytesTotal = manifest.files.reduce((n, f) => n + f.length, 0);
  if (manifest.files.length !== expected.files || bytesTotal !== expected.bytes)
    throw new DriveseedError(
      'CORRUPT',
      `manifest of drive ${header.driveId} lists ${manifest.files.length} files of ${bytesTotal} bytes; the job registered ${expected.files} files of ${expected.bytes} bytes`,
    );

  let bytesDone = 0;
  const key = Buffer.from(expected.key, 'base64');
  // Several files at once, decrypted and checked in worker threads (one per core); the report
  // still lists files in manifest order.
  const pool: OpenPool = new WorkerPool(new URL('./open-worker.js', import.meta.url));
  const largeFiles = new Semaphore(1);
  const outcomes = await mapLimited(manifest.files, PARALLEL_FILES, async (file) => {
    const outcome: FileOutcome = { problems: [], verbose: [], bytes: 0 };
    if (options.skipExisting && (await target.exists(file.name))) {
      outcome.verbose.push(`${file.name}: already in the container, skipped`);
    } else {
      const importFile = async () => {
        const data = await readVerified(pool, drive, header.driveId, key, check, file, outcome.problems);
        if (data && (await written(target, file.name, data, outcome.problems))) {
          outcome.bytes = data.length;
          outcome.imported = true;
          outcome.verbose.push(`${file.name}: ${data.length} bytes, ${file.blocks.length} blocks verified`);
        }
      };
      await (file.length > LARGE_FILE_BYTES ? largeFiles.run(importFile) : importFile());
    }
    bytesDone += file.length;
    options.onProgress?.(bytesDone, bytesTotal);
    return outcome;
  }).finally(() => pool.close());
  for (const outcome of outcomes) {
    report.problems.push(...outcome.problems);
    report.verbose.push(...outcome.verbose);
    if (outcome.imported) {
      report.filesImported++;
      report.bytesImported += outcome.bytes;
    }
  }
  return report;
}

interface FileOutcome {
  problems: ImportProblem[];
  verbose: string[];
  bytes: number;
  imported?: boolean;
}

const PARALLEL_FILES = 4;
/**
 * A file is held whole while it is checked and written, so one larger than this goes alone:
 * the import holds at most one such file (up to MAX_FILE_BYTES) and three packs at once.
 */
const LARGE_FILE_BYTES = 64 * 1024 * 1024;

export type OpenPool = WorkerPool<OpenRequest, OpenReply>;

/** The drive's id, from the only clear-text entry on it; `label` names the drive in messages. */
export async function readDriveHeader(drive: DriveSource, label = drive.path) {
  const text = await drive.read(HEADER_FILE, MAX_HEADER_BYTES);
  if (!text) throw new DriveseedError('NOT_FOUND', `${label}: volume not found (no driveseed drive header)`);
  return parseHeader(text.toString('utf8'), label);
}

/**
 * Writes one verified file into the container. A failure is that file's problem, not the
 * drive's: the others go on, and the report counts exactly what the container holds. The
 * store's message stays out of the customer's log (it can name the service's own paths).
 */
async function written(target: BlobStore, name: string, data: Buffer, problems: ImportProblem[]): Promise<boolean> {
  try {
    await target.put(name, data);
    return true;
  } catch (e) {
    const code = e instanceof DriveseedError ? ` (${e.code})` : '';
    problems.push({ file: name, reason: `could not be written into the container${code}` });
    return false;
  }
}

async function readVerified(
  pool: OpenPool,
  drive: DriveSource,
  driveId: string,
  key: Buffer,
  check: BlockCheck,
  file: ManifestFile,
  problems: ImportProblem[],
): Promise<Buffer | undefined> {
  const reply = await checkOnDrive(pool, drive, { driveId, key, check, file });
  if ('problem' in reply) {
    problems.push({ file: file.name, ...reply.problem });
    return undefined;
  }
  if (!('data' in reply)) throw new Error('the import asked for data and got a read-back');
  return Buffer.from(reply.data);
}

/**
 * One file of a drive, found, measured and read in a worker with every block checked: the
 * import's read (the plaintext comes back) and diskprep's read-back (only the outcome does).
 */
export async function checkOnDrive(
  pool: OpenPool,
  drive: DriveSource,
  request: { driveId: string; key: Buffer; check: BlockCheck; file: ManifestFile; readBack?: boolean },
): Promise<OpenReply> {
  const { file } = request;
  let where: EntryLocation | undefined;
  try {
    where = await drive.locate(file.storedAs);
  } catch (e) {
    return { problem: { reason: e instanceof DriveseedError ? e.message : `${file.storedAs} cannot be read on the drive` } };
  }
  if (!where) return { problem: { reason: `missing from the drive (${file.storedAs})` } };
  // Checked before a byte is read or a buffer made: a manifest's length is only a claim.
  const sealed = sealedLength(file.length, SEAL_OVERHEAD);
  if (where.available !== sealed) {
    const reason = where.available < sealed ? 'truncated: the file is shorter than the manifest says' : 'the file is longer than the manifest says';
    return { problem: { reason: `${reason} (${file.storedAs})` } };
  }
  return pool.run({
    path: where.file,
    offset: where.offset,
    available: where.available,
    check: request.check,
    driveId: request.driveId,
    storedAs: file.storedAs,
    key: request.key,
    length: file.length,
    blocks: file.blocks,
    expectedId: HASHED_NAME.exec(file.name)?.[1],
    ...(request.readBack ? { readBack: true } : {}),
  });
}
