import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DriveseedError } from '../errors.js';
import { mapLimited } from '../util/semaphore.js';
import { WorkerPool } from '../util/worker-pool.js';
import { openDriveSource, type DriveSource } from './drive-medium.js';
import { checkOnDrive, readDriveHeader, type OpenPool } from './drive-reader.js';
import { blockCheckOf, MANIFEST_FILE, MAX_MANIFEST_BYTES, openManifest, sha256, type BlockCheck, type ManifestFile } from './envelope-format.js';

/*
 * diskprep's read-back of a drive it wrote (docs/drive-envelope.md, "Read-back"): every
 * block is read again (past the page cache where the file system allows: read-back.ts),
 * decrypted with the drive's key and checked against the manifest, and each file named by
 * its hash against its name: the checks the data centre's import makes, before the drive
 * leaves. Files that pass are journaled, so a killed read-back goes on where it stopped.
 */

export interface DriveToVerify {
  driveId: string;
  path: string;
  key: string;
  manifestSha256: string;
}

export interface VerifyProblem {
  /** The repository file, or the manifest itself. */
  file: string;
  /** Its payload place; absent for the manifest. */
  storedAs?: string;
  block?: number;
  reason: string;
}

export interface DriveVerifyReport {
  driveId: string;
  path: string;
  files: number;
  bytes: number;
  /** Files an earlier, killed read-back had verified already. */
  resumed: number;
  problems: VerifyProblem[];
  /** False when some file could only be read through the page cache (the file system refused O_DIRECT). */
  fromDevice: boolean;
}

/** Files checked at once: two cores decrypting while a third file waits on the drive. */
const PARALLEL_FILES = 3;

export async function verifyDrive(
  drive: DriveToVerify,
  options: { jobName: string; stateDir: string; onProgress?: (bytesDone: number, bytesTotal: number) => void },
): Promise<DriveVerifyReport> {
  const label = `drive ${drive.path}`;
  const source = await openDriveSource(drive.path, label);
  const header = await readDriveHeader(source, label);
  if (header.jobName !== options.jobName)
    throw new DriveseedError('CONFLICT', `${label} belongs to import job ${header.jobName}, not ${options.jobName}`, { hint: 'give the drives of this job' });
  if (header.driveId !== drive.driveId)
    throw new DriveseedError('CONFLICT', `${label} is drive ${header.driveId}, not drive ${drive.driveId} of import job ${options.jobName}`);
  const report: DriveVerifyReport = { driveId: drive.driveId, path: drive.path, files: 0, bytes: 0, resumed: 0, problems: [], fromDevice: true };
  const sealedManifest = await source.read(MANIFEST_FILE, MAX_MANIFEST_BYTES);
  if (!sealedManifest || sha256(sealedManifest) !== drive.manifestSha256) {
    report.problems.push({ file: MANIFEST_FILE, reason: sealedManifest ? 'the manifest differs from the one diskprep wrote' : 'the manifest is missing' });
    return report;
  }
  const key = Buffer.from(drive.key, 'base64');
  const manifest = openManifest(key, drive.driveId, sealedManifest);
  const check = blockCheckOf(manifest.version);
  const done = await readVerified(options.stateDir, drive.driveId);
  const bytesTotal = manifest.files.reduce((n, f) => n + f.length, 0);
  let bytesDone = 0;
  const pool: OpenPool = new WorkerPool(new URL('./open-worker.js', import.meta.url));
  await mapLimited(manifest.files, PARALLEL_FILES, async (file) => {
    if (done.has(verifiedLine(file))) report.resumed++;
    else {
      const problem = await readBack(pool, source, drive.driveId, key, check, file);
      if (problem === 'cached') report.fromDevice = false;
      if (typeof problem === 'object') report.problems.push(problem);
      else await appendFile(verifiedPath(options.stateDir, drive.driveId), verifiedLine(file) + '\n', { mode: 0o600 });
    }
    report.files++;
    report.bytes += file.length;
    bytesDone += file.length;
    options.onProgress?.(bytesDone, bytesTotal);
  }).finally(() => pool.close());
  return report;
}

/** Undefined or 'cached' when the file verified (read from the device, or through the page cache); else what is wrong. */
async function readBack(
  pool: OpenPool,
  source: DriveSource,
  driveId: string,
  key: Buffer,
  check: BlockCheck,
  file: ManifestFile,
): Promise<VerifyProblem | 'cached' | undefined> {
  const reply = await checkOnDrive(pool, source, { driveId, key, check, file, readBack: true });
  if ('problem' in reply) return { file: file.name, storedAs: file.storedAs, ...reply.problem };
  return 'verified' in reply && !reply.fromDevice ? 'cached' : undefined;
}

const verifiedPath = (stateDir: string, driveId: string) => join(stateDir, `drive-${driveId}.verified`);

/** A file's line names its place and its blocks' check values: a file sealed again (new tags) is verified again. */
function verifiedLine(file: ManifestFile): string {
  return `${file.storedAs} ${sha256(Buffer.from(file.blocks.join(''), 'utf8'))}`;
}

async function readVerified(stateDir: string, driveId: string): Promise<Set<string>> {
  const text = await readFile(verifiedPath(stateDir, driveId), 'utf8').catch(() => '');
  // A line torn by a kill matches no file: that file is read back again.
  return new Set(text.split('\n').filter(Boolean));
}

/** Starts the next read-back of a drive from its first file: a re-check after the drive passed reads everything again. */
export async function forgetReadBack(stateDir: string, driveId: string): Promise<void> {
  await rm(verifiedPath(stateDir, driveId), { force: true });
}
