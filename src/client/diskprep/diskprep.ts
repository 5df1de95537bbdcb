import { resolve } from 'node:path';
import { DriveseedError } from '../../core/errors.js';
import { importSettled } from '../../api/contract.js';
import type { CreateImportJob, ImportJob } from '../../api/schemas.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { eraseDrive, inspectDrive } from '../../core/envelope/drive-medium.js';
import {
  drivesStarted,
  listStaged,
  MAX_DRIVE_BYTES,
  MAX_DRIVES_PER_JOB,
  prepareDrives,
  writtenDrives,
  type PreparedDrive,
  type PrepareProgress,
} from '../../core/envelope/drive-writer.js';
import { locateJobDrives, verifyJobDrives, type VerifiedDrive, type VerifyProgress } from './verify-drives.js';
import { diskprepStateDirectory, listStagedJobs, stagedRepositoryDirectory, writeStagingRecord, type StagingRecord } from '../common/staging.js';

/** Asks the user; `interactive` is false when answers cannot come (no terminal, or all given as flags). */
export interface Prompter {
  readonly interactive: boolean;
  ask(question: string): Promise<string>;
  say(line: string): void;
}

/** The import service as diskprep needs it (the CLI wires it to the HTTP API). */
export interface ImportJobsApi {
  get(name: string): Promise<ImportJob | undefined>;
  create(job: CreateImportJob): Promise<ImportJob>;
  /** What a container holds: the import's result, which a repair compares with the staged seed. */
  listContainer(storageAccount: string, container: string): Promise<{ name: string; size: number }[]>;
}

export interface DiskprepOptions {
  staging: string;
  jobName?: string;
  drives: string[];
  /** Bytes usable on each drive; from the file system when absent. */
  capacity?: number;
  /** Erase non-empty drives without asking. */
  yes: boolean;
  /** Replacement drives: only what the settled import did not deliver, as the job's repair job. */
  repair?: boolean;
  prompter: Prompter;
  api: ImportJobsApi;
  onProgress?: (p: PrepareProgress) => void;
  /** Write the drives and stop: their read-back and the job's registration wait for `diskprep --verify`. */
  writeOnly?: boolean;
  onVerifyProgress?: (p: VerifyProgress) => void;
}

export interface DiskprepResult {
  record: StagingRecord;
  /** Absent after --write-only: the job is registered once its drives verify. */
  job?: ImportJob;
  /** Each drive's read-back. */
  verified?: VerifiedDrive[];
  /** Replacement drives: the staged files they carry, of how many staged. */
  repair?: { files: number; bytes: number };
  drives: PreparedDrive[];
  /** True when an earlier run had registered the job already: this run changed nothing. */
  alreadyRegistered: boolean;
}

/**
 * The seed's DiskPrep: picks the staged job, writes its repository onto drive envelopes
 * (asking for another drive whenever one is full), then registers the import job with the
 * drives' ids, keys and manifest hashes. Killed anywhere, a rerun with the same drives goes
 * on from the journal; once the job is registered, a rerun only reports it.
 */
export async function runDiskprep(options: DiskprepOptions): Promise<DiskprepResult> {
  const record = await chooseStagedJob(options.staging, options.jobName, options.prompter);
  if (record.state === 'staging')
    throw new DriveseedError('USAGE', `the offline backup of job ${record.jobName} has not finished`, {
      hint: 'run `driveseed agent backup-now` on the source computer first',
    });
  const seeded = () => new DriveseedError('USAGE', `job ${record.jobName} is seeded already; its staged copy is gone`);
  if (options.repair && record.state === 'seeded') throw seeded();
  const stateDir = diskprepStateDirectory(options.staging, record.jobName);
  const staging = new FsStore(stagedRepositoryDirectory(options.staging, record.jobName));
  const repair = options.repair ? await planRepair(record, staging, options) : undefined;
  const jobName = repair?.jobName ?? record.jobName;
  let started = await drivesStarted(stateDir, jobName);
  const registered = await options.api.get(jobName);
  if (registered) {
    const ours = new Set(started.map((d) => d.driveId));
    if (!registered.drives.every((d) => ours.has(d.driveId))) {
      throw new DriveseedError('CONFLICT', `import job name ${jobName} belongs to another job in the service`, {
        hint: 'the staged backup needs a job of its own: protect again with another --job',
      });
    }
    return { record, job: registered, drives: [], alreadyRegistered: true };
  }
  if (record.state === 'seeded') throw seeded();
  const paths = options.drives.map((p) => resolve(p));
  const unfinished = started.filter((d) => !d.done && !paths.includes(d.path));
  if (unfinished.length > 0) {
    throw new DriveseedError('USAGE', `drive ${unfinished[0].path} was being written when diskprep stopped`, {
      hint: `give it again with --drive ${unfinished[0].path}`,
    });
  }
  if (paths.length === 0 && started.length === 0)
    paths.push(await askForDrive(options.prompter, 'Drive to write (a mounted directory, or an image file NAME.img)'));
  for (;;) {
    started = await drivesStarted(stateDir, jobName);
    const targets = [];
    for (let i = 0; i < paths.length; i++) {
      const ready = await readyDrive(paths[i], started, paths, options);
      paths[i] = ready.path; // the drive given instead of one the user would not erase
      targets.push(ready);
    }
    const result = await prepareDrives({
      staging,
      jobName,
      only: repair?.files,
      drives: [...started.filter((d) => d.done && !paths.includes(d.path)).map((d) => ({ path: d.path, capacity: 0 })), ...targets],
      stateDir,
      onProgress: options.onProgress,
    });
    if (result.remainingFiles === 0) {
      for (const path of paths)
        if (!result.drives.some((d) => d.path === path)) options.prompter.say(`drive ${path} was not needed; nothing was written on it`);
      const repaired = repair && { files: repair.files.size, bytes: repair.bytes };
      if (options.writeOnly) return { record, drives: result.drives, alreadyRegistered: false, repair: repaired };
      const { job, verified, drives } = await verifyAndRegister(record, jobName, staging, stateDir, options);
      return { record, job, verified, drives, alreadyRegistered: false, repair: repaired };
    }
    const left = `${result.remainingFiles} files (${result.remainingBytes} bytes) still to copy`;
    if (!options.prompter.interactive) {
      throw new DriveseedError('USAGE', `the drives are full: ${left}`, { hint: 'run diskprep again with another --drive; what is on these drives is kept' });
    }
    options.prompter.say(`The drive is full; ${left}.`);
    paths.push(await askForDrive(options.prompter, 'Next drive (a mounted directory, or an image file NAME.img)'));
  }
}

/**
 * The read-back of every drive, then the import job: registration waits until each drive
 * verified under the manifest that is registered (verify-drives.ts rewrites what fails).
 */
async function verifyAndRegister(
  record: StagingRecord,
  jobName: string,
  staging: FsStore,
  stateDir: string,
  options: Pick<DiskprepOptions, 'api' | 'prompter' | 'onVerifyProgress'>,
): Promise<{ job: ImportJob; verified: VerifiedDrive[]; drives: PreparedDrive[] }> {
  const verified = await verifyJobDrives({ staging, jobName, stateDir, say: (line) => options.prompter.say(line), onProgress: options.onVerifyProgress });
  const drives = await writtenDrives(stateDir, jobName);
  const job = await options.api.create({
    name: jobName,
    storageAccount: record.storageAccount,
    container: record.container,
    drives: drives.map(({ driveId, key, manifestSha256, files, bytes }) => ({ driveId, key, manifestSha256, files, bytes })),
    ...(record.kind === 'delta' ? { kind: 'delta' as const } : {}),
  });
  return { job, verified, drives };
}

export interface VerifyCommandOptions {
  staging: string;
  jobName?: string;
  drives: string[];
  /** The job's replacement drives rather than the job's own. */
  repair?: boolean;
  prompter: Prompter;
  api: ImportJobsApi;
  onProgress?: (p: VerifyProgress) => void;
}

/**
 * `diskprep --verify`: the read-back on its own (the morning after a --write-only night, or
 * again before the drives go). Drives are found by their headers wherever they are mounted
 * now. A job not registered yet is registered once every drive verified; a registered one
 * is only checked.
 */
export async function runVerify(
  options: VerifyCommandOptions,
): Promise<{ record: StagingRecord; job: ImportJob; verified: VerifiedDrive[]; registeredNow: boolean }> {
  const record = await chooseStagedJob(options.staging, options.jobName, options.prompter);
  const jobName = options.repair ? record.repairJob : record.jobName;
  if (!jobName)
    throw new DriveseedError('USAGE', `job ${record.jobName} has no replacement drives`, { hint: 'write them first: diskprep --repair --drive PATH' });
  const stateDir = diskprepStateDirectory(options.staging, record.jobName);
  const unfinished = (await drivesStarted(stateDir, jobName)).find((d) => !d.done);
  if (unfinished)
    throw new DriveseedError('USAGE', `drive ${unfinished.path} was being written when diskprep stopped`, {
      hint: `finish it first: diskprep --drive ${unfinished.path}`,
    });
  await locateJobDrives(
    stateDir,
    jobName,
    options.drives.map((p) => resolve(p)),
  );
  const registered = await options.api.get(jobName);
  const staging = new FsStore(stagedRepositoryDirectory(options.staging, record.jobName));
  if (registered) {
    const verified = await verifyJobDrives({
      staging,
      jobName,
      stateDir,
      registered,
      say: (line) => options.prompter.say(line),
      onProgress: options.onProgress,
    });
    return { record, job: registered, verified, registeredNow: false };
  }
  const { job, verified } = await verifyAndRegister(record, jobName, staging, stateDir, { ...options, onVerifyProgress: options.onProgress });
  return { record, job, verified, registeredNow: true };
}

/**
 * Replacement drives (the seed workflow's answer to a drive lost in transit or damaged): once
 * every drive of the job is imported or declared never received, the container is compared
 * with the staged seed, and what it lacks goes onto new drives as the job's repair job, into
 * the same container. The repair job's name is kept in the staging record before any drive
 * is written, so a killed run resumes the same job.
 */
async function planRepair(record: StagingRecord, staging: FsStore, options: DiskprepOptions): Promise<{ jobName: string; files: Set<string>; bytes: number }> {
  const original = await options.api.get(record.jobName);
  if (!original)
    throw new DriveseedError('USAGE', `import job ${record.jobName} is not created yet; there is nothing to repair`, {
      hint: 'run diskprep without --repair first',
    });
  if (original.state === 'Canceled')
    throw new DriveseedError('USAGE', `import job ${record.jobName} was canceled; there is nothing to repair`, {
      hint: 'protect again with --offline and a new --job name',
    });
  if (!importSettled(original)) {
    throw new DriveseedError(
      'USAGE',
      `import job ${record.jobName} is ${original.state}: replacement drives are for what its import did not deliver, once every drive is imported or declared never received`,
    );
  }
  const present = new Map((await options.api.listContainer(record.storageAccount, record.container)).map((b) => [b.name, b.size]));
  const missing = (await listStaged(staging)).filter((f) => present.get(f.name) !== f.size);
  const jobName = record.repairJob ?? repairJobName(record.jobName);
  if (missing.length === 0 && !record.repairJob) {
    throw new DriveseedError('USAGE', `the import of job ${record.jobName} delivered every staged file; no replacement drive is needed`, {
      hint: 'the next backup completes the seed',
    });
  }
  if (!record.repairJob) await writeStagingRecord(options.staging, { ...record, repairJob: jobName });
  return { jobName, files: new Set(missing.map((f) => f.name)), bytes: missing.reduce((n, f) => n + f.size, 0) };
}

/** The repair job's name keeps the job's and stays within the naming rules' 64 characters. */
function repairJobName(jobName: string): string {
  return `${jobName.slice(0, 57)}-repair`;
}

/** The seed lists the import jobs staged in the location and asks which one; --job answers it. */
export async function chooseStagedJob(staging: string, jobName: string | undefined, prompter: Prompter): Promise<StagingRecord> {
  const records = await listStagedJobs(staging);
  if (jobName) {
    const record = records.find((r) => r.jobName === jobName);
    if (!record) {
      throw new DriveseedError(
        'USAGE',
        `${staging} holds no staged backup for import job ${jobName}${records.length > 0 ? ` (it holds: ${records.map((r) => r.jobName).join(', ')})` : ''}`,
      );
    }
    return record;
  }
  if (records.length === 0)
    throw new DriveseedError('USAGE', `${staging} holds no staged offline backups`, {
      hint: 'run `driveseed agent protect … --offline --staging DIR` and `agent backup-now` first',
    });
  if (records.length === 1) {
    prompter.say(`import job ${records[0].jobName} (server ${records[0].serverName}, into ${records[0].storageAccount}/${records[0].container})`);
    return records[0];
  }
  if (!prompter.interactive)
    throw new DriveseedError('USAGE', `${staging} holds several import jobs (${records.map((r) => r.jobName).join(', ')})`, { hint: 'name one with --job' });
  records.forEach((r, i) => prompter.say(`  ${i + 1}. ${r.jobName}  server ${r.serverName}, ${r.state}, into ${r.storageAccount}/${r.container}`));
  const answer = (await prompter.ask(`Which import job (1-${records.length})? `)).trim();
  const chosen = records[Number(answer) - 1] ?? records.find((r) => r.jobName === answer);
  if (!chosen) throw new DriveseedError('USAGE', `no import job "${answer}" in the list`);
  return chosen;
}

/**
 * Checks a drive before anything touches it, in the order that loses nothing: the job's
 * drive count and the 10 TB limit first, then (only for a new, non-empty drive) the
 * confirmation to erase it. Returns the drive's usable capacity.
 */
async function readyDrive(
  path: string,
  started: { path: string; capacity?: number }[],
  allPaths: string[],
  options: DiskprepOptions,
): Promise<{ path: string; capacity: number }> {
  const known = started.find((d) => d.path === path);
  const { kind, contents, capacity: room } = await inspectDrive(path);
  // A drive begun earlier keeps the capacity it was begun with: its free space now is less by what is on it.
  if (known) return { path, capacity: options.capacity ?? known.capacity ?? room };
  const capacity = options.capacity ?? room;
  if (capacity > MAX_DRIVE_BYTES) throw new DriveseedError('USAGE', `drive ${path} is larger than 10 TB, the most a drive may hold`);
  const drivesSoFar = new Set([...started.map((d) => d.path), ...allPaths]).size;
  if (drivesSoFar > MAX_DRIVES_PER_JOB) throw new DriveseedError('USAGE', `an import job takes at most ${MAX_DRIVES_PER_JOB} drives`);
  if (contents.length === 0) return { path, capacity };
  if (!options.yes) {
    if (!options.prompter.interactive)
      throw new DriveseedError('USAGE', `drive ${path} is not empty (${contents.length} entries); driveseed will not write over data`, {
        hint: 'pass --yes to erase it',
      });
    const answer = await options.prompter.ask(`Drive ${path} is not empty (${contents.length} entries). Erase everything on it? Type "yes" to erase: `);
    if (answer.trim().toLowerCase() !== 'yes') {
      // "No" means "not this drive", not "stop": the user has usually picked the wrong one.
      options.prompter.say(`Drive ${path} left as it was.`);
      const other = await askForDrive(options.prompter, 'Another drive instead (Enter to stop)');
      return readyDrive(
        other,
        started,
        allPaths.map((p) => (p === path ? other : p)),
        options,
      );
    }
  }
  await eraseDrive(path, kind);
  // An erased image starts from nothing: its room is its file system's, unless given.
  return { path, capacity: options.capacity ?? (await inspectDrive(path)).capacity };
}

async function askForDrive(prompter: Prompter, question: string): Promise<string> {
  if (!prompter.interactive) throw new DriveseedError('USAGE', 'no drive given', { hint: 'pass --drive PATH' });
  const answer = (await prompter.ask(`${question}: `)).trim();
  if (!answer) throw new DriveseedError('USAGE', 'no drive given; stopped (run diskprep again to go on)');
  return resolve(answer);
}
