import { open as openFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriveseedError } from '../errors.js';
import { importAeadKey, openOffThread, SEAL_OVERHEAD, sha256OffThread } from '../repo/crypto.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BLOCK_SIZE, blockAad, HEADER_FILE, MANIFEST_FILE, openManifest, parseHeader, sha256, type ManifestFile } from './envelope-format.js';

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
  const key = await importAeadKey(Buffer.from(expected.key, 'base64'));
  // Several files at once, so decryption and hashing (off the main thread) use both cores;
  // the report still lists files in manifest order.
  const outcomes = await mapLimited(manifest.files, PARALLEL_FILES, async (file) => {
    const outcome: FileOutcome = { problems: [], verbose: [], bytes: 0 };
    if (options.skipExisting && (await target.exists(file.name))) {
      outcome.verbose.push(`${file.name}: already in the container, skipped`);
    } else {
      const data = await readVerified(drivePath, header.driveId, key, file, outcome.problems);
      if (data) {
        await target.put(file.name, data);
        outcome.bytes = data.length;
        outcome.verbose.push(`${file.name}: ${data.length} bytes, ${file.blocks.length} blocks verified`);
      }
    }
    bytesDone += file.length;
    options.onProgress?.(bytesDone, bytesTotal);
    return outcome;
  });
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

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function readVerified(drivePath: string, driveId: string, key: CryptoKey, file: ManifestFile, problems: ImportProblem[]): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await openFile(join(drivePath, file.storedAs), 'r');
  } catch {
    problems.push({ file: file.name, reason: `missing from the drive (${file.storedAs})` });
    return undefined;
  }
  try {
    const out = Buffer.allocUnsafe(file.length);
    let position = 0;
    for (let i = 0; i < file.blocks.length; i++) {
      const plainLength = Math.min(BLOCK_SIZE, file.length - i * BLOCK_SIZE);
      const sealed = Buffer.allocUnsafe(plainLength + SEAL_OVERHEAD);
      const { bytesRead } = await handle.read(sealed, 0, sealed.length, position);
      position += sealed.length;
      if (bytesRead < sealed.length) {
        problems.push({ file: file.name, block: i, reason: 'truncated: the block is shorter than the manifest says' });
        return undefined;
      }
      let block: Buffer;
      try {
        block = await openOffThread(key, sealed, blockAad(driveId, file.storedAs, i), `${file.name} block ${i}`);
      } catch {
        problems.push({ file: file.name, block: i, reason: 'block does not decrypt (damaged, or not this drive\'s key)' });
        return undefined;
      }
      if ((await sha256OffThread(block)) !== file.blocks[i]) {
        problems.push({ file: file.name, block: i, reason: 'block hash differs from the manifest' });
        return undefined;
      }
      block.copy(out, i * BLOCK_SIZE);
    }
    const named = HASHED_NAME.exec(file.name);
    if (named && (await sha256OffThread(out)) !== named[1]) {
      problems.push({ file: file.name, reason: 'content does not match its name' });
      return undefined;
    }
    return out;
  } finally {
    await handle.close();
  }
}
