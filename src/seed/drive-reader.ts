import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriveseedError } from '../errors.js';
import { mapLimited } from '../backup/semaphore.js';
import { WorkerPool } from './worker-pool.js';
import type { OpenReply, OpenRequest } from './open-worker.js';
import type { BlobStore } from '../storage/blob-store.js';
import { HEADER_FILE, MANIFEST_FILE, openManifest, parseHeader, sha256, type ManifestFile } from './envelope-format.js';

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

/** Names a repository file carries when it is named by its own SHA-256. */
const HASHED_NAME = /(?:^|\/)([0-9a-f]{64})$/;

/**
 * The data centre's import of one drive: unlock with the key registered with the job, check
 * the manifest's hash and drive id, then every block, and write each file that is whole into
 * the target container. A damaged file is named (with its block) and left out, never written
 * half; the rest of the drive still imports.
 */
export interface ImportOptions {
  /** Files the container holds already are not written again: a killed import resumes. */
  skipExisting?: boolean;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export async function importDrive(drivePath: string, expected: DriveKeys, target: BlobStore, options: ImportOptions = {}): Promise<DriveImportReport> {
  const report: DriveImportReport = { driveId: expected.driveId, filesImported: 0, bytesImported: 0, problems: [], verbose: [] };
  let headerText: string;
  try {
    headerText = await readFile(join(drivePath, HEADER_FILE), 'utf8');
  } catch {
    throw new DriveseedError('NOT_FOUND', `${drivePath}: volume not found (no driveseed drive header)`);
  }
  const header = parseHeader(headerText, drivePath);
  if (header.driveId !== expected.driveId) {
    throw new DriveseedError('CORRUPT', `manifest drive id mismatch: ${drivePath} is drive ${header.driveId}, the job expects ${expected.driveId}`);
  }
  let sealedManifest: Buffer;
  try {
    sealedManifest = await readFile(join(drivePath, MANIFEST_FILE));
  } catch {
    throw new DriveseedError('CORRUPT', `manifest missing on drive ${header.driveId}`);
  }
  if (sha256(sealedManifest) !== expected.manifestSha256) throw new DriveseedError('CORRUPT', `manifest corrupted on drive ${header.driveId}: its hash differs from the one registered with the job`);
  const manifest = openManifest(Buffer.from(expected.key, 'base64'), header.driveId, sealedManifest);

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
      const data = await readVerified(pool, drivePath, header.driveId, key, file, outcome.problems);
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

const PARALLEL_FILES = 3;


type OpenPool = WorkerPool<Omit<OpenRequest, 'id'>, OpenReply>;

async function readVerified(pool: OpenPool, drivePath: string, driveId: string, key: Buffer, file: ManifestFile, problems: ImportProblem[]): Promise<Buffer | undefined> {
  const reply = await pool.run({
    path: join(drivePath, file.storedAs),
    driveId,
    storedAs: file.storedAs,
    key,
    length: file.length,
    blocks: file.blocks,
    expectedSha256: HASHED_NAME.exec(file.name)?.[1],
  });
  if ('problem' in reply) {
    problems.push({ file: file.name, ...reply.problem });
    return undefined;
  }
  return Buffer.from(reply.data);
}
