import type { ImportJob } from '../../api/schemas.js';
import { DriveseedError } from '../../core/errors.js';
import { openDriveSource } from '../../core/envelope/drive-medium.js';
import { readDriveHeader } from '../../core/envelope/drive-reader.js';
import { forgetReadBack, verifyDrive, type DriveVerifyReport, type VerifyProblem } from '../../core/envelope/drive-verify.js';
import { dropDrive, rewriteFiles, updateDrive, writtenDrives, type WrittenDrive } from '../../core/envelope/drive-writer.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { CONTENT_MISMATCH } from '../../core/envelope/envelope-format.js';

export interface VerifyProgress {
  driveId: string;
  path: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface VerifiedDrive {
  driveId: string;
  path: string;
  files: number;
  bytes: number;
  /** Files sealed again because their read-back failed. */
  rewritten: string[];
  /** False when the file system refused O_DIRECT, so the read-back came through the page cache. */
  fromDevice: boolean;
  /** True when an earlier run had verified the drive under its present manifest. */
  already: boolean;
  /** Files a killed read-back had verified already, not read again. */
  resumed: number;
}

export interface VerifyOptions {
  staging: BlobStore;
  jobName: string;
  stateDir: string;
  /** The service holds the job already: its manifests are registered, so nothing may be rewritten. */
  registered?: ImportJob;
  say: (line: string) => void;
  onProgress?: (p: VerifyProgress) => void;
}

/**
 * Reads every finished drive of the job back (core/envelope/drive-verify.ts) until each has
 * verified under its present manifest. Before the job is registered a file that fails is
 * named in one line and sealed again in its place; one that fails again means the drive is
 * failing, so it is dropped from the job and its files wait for another drive. After the job
 * is registered the read-back only reports: the registered manifests must not change.
 */
export async function verifyJobDrives(options: VerifyOptions): Promise<VerifiedDrive[]> {
  const results: VerifiedDrive[] = [];
  for (const drive of await writtenDrives(options.stateDir, options.jobName)) results.push(await verifyOne(drive, options));
  return results;
}

async function verifyOne(drive: WrittenDrive, options: VerifyOptions): Promise<VerifiedDrive> {
  const outcome: VerifiedDrive = {
    driveId: drive.driveId,
    path: drive.path,
    files: drive.files,
    bytes: drive.bytes,
    rewritten: [],
    fromDevice: true,
    already: false,
    resumed: 0,
  };
  if (drive.verified && !options.registered) return { ...outcome, already: true };
  const registered = options.registered?.drives.find((d) => d.driveId === drive.driveId);
  if (options.registered && !registered)
    throw new DriveseedError('CONFLICT', `drive ${drive.driveId} at ${drive.path} is not one of import job ${options.jobName} as the service registered it`);
  if (drive.verified) {
    // A re-check: unmarked first, so a killed one resumes as a read-back, never counts as passed.
    await updateDrive(options.stateDir, options.jobName, drive.driveId, { verifiedManifest: undefined });
    await forgetReadBack(options.stateDir, drive.driveId);
  }
  let manifestSha256 = drive.manifestSha256;
  const failedBefore = new Set<string>();
  for (;;) {
    const report = await verifyDrive(
      { ...drive, manifestSha256 },
      {
        jobName: options.jobName,
        stateDir: options.stateDir,
        onProgress: (bytesDone, bytesTotal) => options.onProgress?.({ driveId: drive.driveId, path: drive.path, bytesDone, bytesTotal }),
      },
    );
    outcome.fromDevice &&= report.fromDevice;
    outcome.resumed ||= report.resumed;
    if (report.problems.length === 0) {
      await updateDrive(options.stateDir, options.jobName, drive.driveId, { verifiedManifest: manifestSha256 });
      return outcome;
    }
    for (const p of report.problems) options.say(problemLine(report, p));
    if (options.registered) throw registeredDriveBad(report);
    // Every block opened, but the file is not what its name promises: the staged copy was
    // sealed faithfully and is itself damaged. Writing it again, or onto another drive, cannot help.
    const damagedStaging = report.problems.find((p) => p.reason === CONTENT_MISMATCH);
    if (damagedStaging)
      throw new DriveseedError(
        'CORRUPT',
        `the staged copy of ${damagedStaging.file} does not match its name: the staged repository is damaged, not drive ${drive.path}`,
        {
          hint: 'run `driveseed check --repo STAGING/JOB/repository --read-data`, and back up again into a fresh staging job',
        },
      );
    const again = report.problems.find((p) => failedBefore.has(p.storedAs ?? p.file));
    if (again) {
      await dropDrive(options.stateDir, options.jobName, drive.driveId);
      throw new DriveseedError(
        'CORRUPT',
        `drive ${drive.driveId} at ${drive.path} is failing: ${again.file} did not verify after it was written again; the drive is dropped from import job ${options.jobName}`,
        { hint: `do not ship it: run diskprep again with another --drive for its ${files(drive.files)}` },
      );
    }
    for (const p of report.problems) failedBefore.add(p.storedAs ?? p.file);
    const places = new Set(report.problems.flatMap((p) => (p.storedAs ? [p.storedAs] : [])));
    manifestSha256 = await rewriteFiles({
      staging: options.staging,
      jobName: options.jobName,
      stateDir: options.stateDir,
      driveId: drive.driveId,
      storedAs: places,
    });
    outcome.rewritten.push(...report.problems.map((p) => p.file));
    options.say(
      `drive ${drive.driveId} at ${drive.path}: ${files(places.size)} written again${places.size < report.problems.length ? ', and its manifest' : ''}; reading back`,
    );
  }
}

/** One line naming the drive, where it is, and the file (with its block): what the user acts on. */
export function problemLine(report: Pick<DriveVerifyReport, 'driveId' | 'path'>, p: VerifyProblem): string {
  return `drive ${report.driveId} at ${report.path}: ${p.file}${p.block !== undefined ? ` block ${p.block}` : ''} does not verify: ${p.reason}`;
}

function registeredDriveBad(report: DriveVerifyReport): DriveseedError {
  const first = report.problems[0];
  return new DriveseedError('CORRUPT', `${problemLine(report, first)}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more)` : ''}`, {
    hint: 'the import job is registered with this drive as it was written: its import will name the file, and the seed completion sends it over the network (or `diskprep --repair` writes it again)',
  });
}

/**
 * The drives `diskprep --verify` was given, matched to the job's drives by their headers (a
 * drive may be mounted elsewhere the next morning); a drive of another job, one diskprep did
 * not write for this job, and a drive of the job that is not there are each named in one line.
 */
export async function locateJobDrives(stateDir: string, jobName: string, given: string[]): Promise<WrittenDrive[]> {
  const drives = await writtenDrives(stateDir, jobName);
  if (drives.length === 0)
    throw new DriveseedError('USAGE', `import job ${jobName} has no finished drives to verify`, { hint: 'write them first: diskprep --drive PATH' });
  const found = new Map<string, string>();
  for (const path of given) {
    const header = await readDriveHeader(await openDriveSource(path, `drive ${path}`), `drive ${path}`);
    if (header.jobName !== jobName) throw new DriveseedError('CONFLICT', `drive ${path} belongs to import job ${header.jobName}, not ${jobName}`);
    if (!drives.some((d) => d.driveId === header.driveId))
      throw new DriveseedError('CONFLICT', `drive ${path} (drive ${header.driveId}) is not a drive diskprep wrote for import job ${jobName}`);
    found.set(header.driveId, path);
  }
  for (const drive of drives) {
    const path = found.get(drive.driveId) ?? (given.length === 0 ? drive.path : undefined);
    const header = path
      ? await openDriveSource(path)
          .then(readDriveHeader)
          .catch(() => undefined)
      : undefined;
    if (!path || header?.driveId !== drive.driveId)
      throw new DriveseedError('NOT_FOUND', `drive ${drive.driveId} of import job ${jobName} (written at ${drive.path}) is missing`, {
        hint: "plug it in and give it with --drive PATH, with the job's other drives",
      });
    if (path !== drive.path) await updateDrive(stateDir, jobName, drive.driveId, { path });
  }
  return writtenDrives(stateDir, jobName);
}

const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
