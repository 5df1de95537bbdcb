import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { ExportJob } from '../../api/schemas.js';
import { openDriveSource } from '../../core/envelope/drive-medium.js';
import { importDrive, readDriveHeader } from '../../core/envelope/drive-reader.js';
import type { DriveHeader } from '../../core/envelope/envelope-format.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { contentMatchesId } from '../../core/repo/ids.js';
import { expectedContentHash } from '../../core/repo/layout.js';
import { Repository } from '../../core/repo/repository.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { agentHome } from './agent-config.js';
import { openVaultSession } from './vault-session.js';

/** What a restore may fetch over the network by default to make up for what the drives lack: some 15 minutes at 20 Mbit/s. */
export const DEFAULT_HEAL_LIMIT = 2 * 1024 ** 3;

export interface DriveProblem {
  /** The drive as the user gave it, or its id when it was not given. */
  drive: string;
  message: string;
}

export interface DrivesRead {
  job: ExportJob;
  /** The repository as the drives (and the healing) made it, on this machine: restore from it. */
  repo: Repository;
  /** Where the drives' verified files wait: removed once the restore is done. */
  workDir: string;
  filesFromDrives: number;
  bytesFromDrives: number;
  /** Files the drives lacked or carried damaged, fetched from the vault and checked against their names. */
  healedFiles: string[];
  healedBytes: number;
  problems: DriveProblem[];
  /** Everything this read moved over the network: the job, its file list and the healed files. */
  traffic: { sent: number; received: number };
}

export interface FromDrivesOptions {
  /** The recovery point asked for: "latest" takes the job's; otherwise it must be the job's (an id or a prefix). */
  ref: string;
  drives: string[];
  password: string;
  /** The export job; by default the one the first drive's header names. */
  jobName?: string;
  healLimit: number;
  /** Where the drives' files are gathered (default: under the agent's home); it needs room for the export. */
  workDir?: string;
  target: string;
  /** One line as each problem is found (a foreign drive, a wrong key, a damaged block, a missing drive). */
  onProblem?: (problem: DriveProblem) => void;
}

/**
 * `agent restore --from-drive`: the drives of an export job are unlocked with the keys the
 * service kept for this server, every block is checked and every file hashed against its name,
 * and what is whole is gathered into a local copy of the recovery point's repository files.
 * What the drives lack or carry damaged (a foreign drive, a wrong key, a flipped byte, a drive
 * not in the package) is named, one line each, and fetched from the vault — up to `healLimit`
 * bytes; beyond that nothing is fetched and nothing is restored, and the error says so. A
 * killed run resumes: what was gathered is kept, and only the rest is read again.
 */
export async function readExportDrives(options: FromDrivesOptions): Promise<DrivesRead> {
  const session = await openVaultSession({ interactive: true });
  const problems: DriveProblem[] = [];
  const problem = (drive: string, message: string): void => {
    const p = { drive, message };
    problems.push(p);
    options.onProblem?.(p);
  };
  const headers = await Promise.all(
    options.drives.map(async (path) => ({ path, header: await headerOf(path).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))) })),
  );
  const jobName = options.jobName ?? firstJobName(headers);
  const job = await session.client.request('getExportJob', { params: { ...session.server, jobName } });
  assertPointOfJob(options.ref, job);
  const workDir = options.workDir ?? join(agentHome(), 'restore-from-drives', job.id);
  const local = new FsStore(workDir);

  const given = new Set<string>();
  for (const { path, header } of headers) {
    if (header instanceof Error) {
      problem(path, header.message);
      continue;
    }
    const drive = job.drives.find((d) => d.driveId === header.driveId);
    if (header.jobName !== job.name || !drive) {
      problem(path, `drive ${header.driveId} belongs to export job ${header.jobName}, not ${job.name}: passed over`);
      continue;
    }
    given.add(drive.driveId);
    try {
      const keys = { driveId: drive.driveId, key: drive.key ?? '', manifestSha256: drive.manifestSha256 ?? '', files: drive.files, bytes: drive.bytes };
      // What an earlier, killed run gathered is not read again.
      const report = await importDrive(path, keys, local, { skipExisting: true });
      for (const p of report.problems) problem(path, `${p.file ?? ''}${p.block !== undefined ? ` block ${p.block}` : ''}: ${p.reason}`);
    } catch (e) {
      if (!isDriveseedError(e)) throw e;
      problem(path, e.message);
    }
  }
  for (const d of job.drives)
    if (!given.has(d.driveId)) problem(d.driveId, `drive of export job ${job.name} (${d.driveId}, one of ${job.drives.length}) was not given`);

  const { files } = await session.client.request('exportFiles', { params: { ...session.server, jobName: job.name } });
  const lacking = [];
  for (const file of files) if (!(await local.exists(file.name))) lacking.push(file);
  const lackingBytes = lacking.reduce((n, f) => n + f.size, 0);
  const filesFromDrives = files.length - lacking.length;
  const bytesFromDrives = files.reduce((n, f) => n + f.size, 0) - lackingBytes;
  if (lackingBytes > options.healLimit)
    throw new DriveseedError(
      'TOO_LARGE',
      `the drives lack ${lacking.length} of ${files.length} files (${lackingBytes} bytes), more than --heal-limit ${options.healLimit} bytes allows over the network: nothing was fetched and nothing written into ${options.target}`,
      {
        hint: `ask for another export (\`driveseed agent export --job NEW ${job.snapshotId.slice(0, 8)}\`), or raise --heal-limit; the ${filesFromDrives} verified files already read stay in ${workDir} for the next run`,
      },
    );
  const healed = await heal(session.store, local, lacking);
  const repo = await Repository.open(local, options.password);
  return {
    job,
    repo,
    workDir,
    filesFromDrives,
    bytesFromDrives,
    healedFiles: lacking.map((f) => f.name),
    healedBytes: healed,
    problems,
    traffic: { ...session.client.traffic },
  };
}

/** Once the files are restored, the gathered copy (as large as the export) goes. */
export async function removeWorkDir(read: DrivesRead): Promise<void> {
  await rm(read.workDir, { recursive: true, force: true });
}

async function headerOf(path: string): Promise<DriveHeader> {
  return readDriveHeader(await openDriveSource(path), `drive ${path}`);
}

/** The job the drives say they belong to: the first readable header's (each other drive is checked against it). */
function firstJobName(headers: { path: string; header: DriveHeader | Error }[]): string {
  for (const { header } of headers) if (!(header instanceof Error)) return header.jobName;
  const first = headers[0]?.header;
  throw first instanceof Error ? first : new DriveseedError('USAGE', 'give the drives with --from-drive PATH...');
}

function assertPointOfJob(ref: string, job: ExportJob): void {
  if (ref === 'latest' || job.snapshotId.startsWith(ref)) return;
  throw new DriveseedError('USAGE', `the drives of export job ${job.name} carry recovery point ${job.snapshotId.slice(0, 8)}, not ${ref}`, {
    hint: `restore ${job.snapshotId.slice(0, 8)} from them, or ${ref} from the vault without --from-drive`,
  });
}

/** The files the drives did not deliver, from the vault, each checked against its name before it is kept. */
async function heal(vault: BlobStore, local: BlobStore, files: { name: string; size: number }[]): Promise<number> {
  let bytes = 0;
  for (const file of files) {
    const data = await vault.get(file.name);
    const id = expectedContentHash(file.name);
    if (id && !contentMatchesId(data, id)) throw new DriveseedError('CORRUPT', `${file.name} from the vault does not match its name: not restored from`);
    await local.put(file.name, data);
    bytes += data.length;
  }
  return bytes;
}
