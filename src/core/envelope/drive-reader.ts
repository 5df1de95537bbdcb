import { DriveseedError } from '../errors.js';
import { mapLimited } from '../util/semaphore.js';
import { WorkerPool } from '../util/worker-pool.js';
import type { OpenReply, OpenRequest } from './open-worker.js';
import type { BlobStore } from '../storage/blob-store.js';
import { openDriveSource, type DriveSource } from './drive-medium.js';
import { blockCheckOf, HEADER_FILE, MANIFEST_FILE, openManifest, parseHeader, sha256, type BlockCheck, type ManifestFile } from './envelope-format.js';

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

export interface DriveKeys {
  driveId: string;
  key: string;
  manifestSha256: string;
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
  const drive = await openDriveSource(drivePath);
  const header = await readDriveHeader(drive);
  if (header.driveId !== expected.driveId) {
    throw new DriveseedError('CORRUPT', `manifest drive id mismatch: ${drivePath} is drive ${header.driveId}, the job expects ${expected.driveId}`);
  }
  const sealedManifest = await drive.read(MANIFEST_FILE);
  if (!sealedManifest) throw new DriveseedError('CORRUPT', `manifest missing on drive ${header.driveId}`);
  if (sha256(sealedManifest) !== expected.manifestSha256)
    throw new DriveseedError('CORRUPT', `manifest corrupted on drive ${header.driveId}: its hash differs from the one registered with the job`);
  const manifest = openManifest(Buffer.from(expected.key, 'base64'), header.driveId, sealedManifest);
  if (manifest.version !== header.version)
    throw new DriveseedError('CORRUPT', `drive ${header.driveId}: its header says envelope version ${header.version}, its manifest ${manifest.version}`);
  const check = blockCheckOf(manifest.version);

  const bytesTotal = manifest.files.reduce((n, f) => n + f.length, 0);
  let bytesDone = 0;
  const key = Buffer.from(expected.key, 'base64');
  // Several files at once, decrypted and checked in worker threads (one per core); the report
  // still lists files in manifest order.
  const pool: OpenPool = new WorkerPool(new URL('./open-worker.js', import.meta.url));
  const outcomes = await mapLimited(manifest.files, PARALLEL_FILES, async (file) => {
    const outcome: FileOutcome = { problems: [], verbose: [], bytes: 0 };
    if (options.skipExisting && (await target.exists(file.name))) {
      outcome.verbose.push(`${file.name}: already in the container, skipped`);
    } else {
      const data = await readVerified(pool, drive, header.driveId, key, check, file, outcome.problems);
      if (data) {
        await target.put(file.name, data);
        outcome.bytes = data.length;
        outcome.verbose.push(`${file.name}: ${data.length} bytes, ${file.blocks.length} blocks verified`);
      }
    }
    bytesDone += file.length;
    options.onProgress?.(bytesDone, bytesTotal);
    return outcome;
  }).finally(() => pool.close());
  for (const outcome of outcomes) {
    report.problems.push(...outcome.problems);
    report.verbose.push(...outcome.verbose);
    if (outcome.bytes > 0) {
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
}

const PARALLEL_FILES = 4;

type OpenPool = WorkerPool<OpenRequest, OpenReply>;

/** The drive's id, from the only clear-text entry on it. */
export async function readDriveHeader(drive: DriveSource) {
  const text = await drive.read(HEADER_FILE);
  if (!text) throw new DriveseedError('NOT_FOUND', `${drive.path}: volume not found (no driveseed drive header)`);
  return parseHeader(text.toString('utf8'), drive.path);
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
  const where = await drive.locate(file.storedAs);
  if (!where) {
    problems.push({ file: file.name, reason: `missing from the drive (${file.storedAs})` });
    return undefined;
  }
  const reply = await pool.run({
    path: where.file,
    offset: where.offset,
    available: where.available,
    check,
    driveId,
    storedAs: file.storedAs,
    key,
    length: file.length,
    blocks: file.blocks,
    expectedId: HASHED_NAME.exec(file.name)?.[1],
  });
  if ('problem' in reply) {
    problems.push({ file: file.name, ...reply.problem });
    return undefined;
  }
  return Buffer.from(reply.data);
}
