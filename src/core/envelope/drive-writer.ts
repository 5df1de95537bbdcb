import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriveseedError } from '../errors.js';
import { importAeadKey, SEAL_OVERHEAD, sealOffThread, TAG_LENGTH } from '../repo/crypto.js';
import { localPathsOf, type BlobStore } from '../storage/blob-store.js';
import { isLockFile } from '../repo/layout.js';
import { WorkerPool } from '../util/worker-pool.js';
import { forgetReadBack } from './drive-verify.js';
import { driveSink, inspectDrive, type DriveSink, type PayloadPlace } from './drive-medium.js';
import type { SealReply, SealRequest } from './seal-worker.js';
import {
  BLOCK_SIZE,
  blockAad,
  ENVELOPE_FORMAT,
  ENVELOPE_VERSION,
  PAYLOAD_DIR,
  sealedLength,
  sealManifest,
  sha256,
  type DriveHeader,
  type Manifest,
  type ManifestFile,
} from './envelope-format.js';

export const MAX_DRIVES_PER_JOB = 10;
export const MAX_DRIVE_BYTES = 10 * 1000 ** 4;
/** Room kept free on every drive for its header and manifest. */
const RESERVE_BYTES = 1024 * 1024;
/** Files copied at once: enough to keep both cores sealing and hashing while one file waits on the disk. */
const PARALLEL_COPIES = 3;

export interface DriveTarget {
  /** A mounted drive's directory, or an image file. */
  path: string;
  /** Usable bytes; the caller takes it from the file system or --capacity. */
  capacity: number;
}

export interface PreparedDrive {
  driveId: string;
  path: string;
  /** base64; goes to the service with the job, never onto a drive. */
  key: string;
  manifestSha256: string;
  files: number;
  bytes: number;
}

export interface PrepareResult {
  drives: PreparedDrive[];
  /** Staged files no drive had room for: ask for another drive and call again. */
  remainingFiles: number;
  remainingBytes: number;
}

export interface PrepareProgress {
  file: string;
  filesDone: number;
  bytesDone: number;
  filesTotal: number;
  bytesTotal: number;
}

/** What survives a killed run, in the copy computer's state dir (mode 0700: it holds drive keys). */
interface DriveState {
  driveId: string;
  path: string;
  key: string;
  done: boolean;
  /** The capacity it was begun with: a resumed drive keeps it unless --capacity says otherwise. */
  capacity?: number;
  manifestSha256?: string;
  /** The manifest hash the drive's read-back last passed under: the drive is verified while it equals manifestSha256. */
  verifiedManifest?: string;
}

interface JobState {
  jobName: string;
  drives: DriveState[];
}

export interface StagedFile {
  name: string;
  size: number;
}

/**
 * Copies a staging directory (a repository) onto drive envelopes, drive after drive, and
 * can be killed at any point: each file is appended to the drive's journal once it is on
 * the drive and synced, and a rerun skips what the journals list.
 */
export async function prepareDrives(options: {
  staging: BlobStore;
  jobName: string;
  drives: DriveTarget[];
  stateDir: string;
  /** Only these staged files (replacement drives carry what an import did not deliver). */
  only?: ReadonlySet<string>;
  onProgress?: (p: PrepareProgress) => void;
  now?: () => Date;
}): Promise<PrepareResult> {
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const state = await loadState(options.stateDir, options.jobName);
  const staged = (await listStaged(options.staging)).filter((f) => !options.only || options.only.has(f.name));
  const copied = new Set<string>();
  for (const drive of state.drives) for (const entry of await readJournal(options.stateDir, drive.driveId)) copied.add(entry.name);
  const pending = staged.filter((f) => !copied.has(f.name));
  const totals = { filesTotal: staged.length, bytesTotal: staged.reduce((n, f) => n + f.size, 0) };
  let filesDone = copied.size;
  let bytesDone = staged.filter((f) => copied.has(f.name)).reduce((n, f) => n + f.size, 0);

  // Staged files on a local disk are sealed in worker threads, one per core; any other store on the thread pool.
  const pool = localPathsOf(options.staging) ? sealPool() : undefined;
  try {
    assertRoomForOneFile(state, options.drives, pending[0]);
    for (const target of options.drives) {
      // Everything is placed: a drive not begun yet is not needed, and is left untouched. Begun,
      // it would join the job empty, to be shipped, received and imported for nothing.
      if (pending.length === 0 && !state.drives.some((d) => d.path === target.path)) continue;
      const now = options.now?.() ?? new Date();
      const { drive, sink } = await openDrive(state, target, options.stateDir);
      if (drive.done || !sink) continue;
      const journal = await readJournal(options.stateDir, drive.driveId);
      // A new drive, or one a run was killed on before its first file was journaled (maybe
      // before its header was whole): it starts over, under the id the job state already holds.
      if (journal.length === 0) await sink.start(driveHeaderJson(drive, options.jobName, now));
      await sink.resume(journal.map((f) => ({ storedAs: f.storedAs, sealedLength: sealedLength(f.length, SEAL_OVERHEAD) })));
      let used = RESERVE_BYTES + journal.reduce((n, f) => n + sink.footprint(sealedLength(f.length, SEAL_OVERHEAD)), 0);
      // Payload numbers go on after the highest journaled one: a copy killed in flight left a
      // hole (and maybe a partial file nobody references), never a number used twice.
      let nextIndex = journal.reduce((n, f) => Math.max(n, payloadIndex(f.storedAs) + 1), 0);
      const copy = await copierFor(options.staging, pool, target.path, drive);
      const copies = new CopyWindow(PARALLEL_COPIES);
      const batch = new SyncBatch(target.path, async (entries) => {
        await appendJournal(options.stateDir, drive.driveId, entries);
        journal.push(...entries);
      });
      let placedOnDrive = journal.length;
      let journaled: Promise<void> = Promise.resolve();
      try {
        while (pending.length > 0 && !copies.failed) {
          const file = pending[0];
          const sealed = sealedLength(file.size, SEAL_OVERHEAD);
          const need = sink.footprint(sealed);
          if (used + need > target.capacity) {
            if (placedOnDrive === 0 && need + RESERVE_BYTES > target.capacity) {
              throw new DriveseedError(
                'USAGE',
                `drive ${target.path} is too small for even one file (${file.name} needs ${need + RESERVE_BYTES} bytes, the drive has ${target.capacity})`,
              );
            }
            break;
          }
          pending.shift();
          used += need;
          placedOnDrive++;
          const storedAs = payloadName(nextIndex++);
          const place = await sink.place(storedAs, sealed);
          const copied = copy(file, storedAs, place);
          // Files join the sync batch in payload order, so the journal is always a prefix of what
          // was placed: a resumed image then ends exactly after the last journaled file.
          journaled = journalInTurn(journaled, copied, async (entry) => {
            batch.add(entry, place.file, sealed);
            filesDone++;
            bytesDone += file.size;
            options.onProgress?.({ file: file.name, filesDone, bytesDone, ...totals });
          });
          await copies.add(journaled);
        }
        await copies.drain();
      } catch (e) {
        // What was copied in order before the failure is kept: a rerun does not copy it again.
        await copies.drain().catch(() => undefined);
        await batch.flush().catch(() => undefined);
        throw e;
      }
      await batch.flush();
      drive.manifestSha256 = await writeManifest(sink, drive.key, {
        version: ENVELOPE_VERSION,
        driveId: drive.driveId,
        jobName: options.jobName,
        files: journal,
      });
      drive.done = true;
      await saveState(options.stateDir, state);
    }
  } finally {
    await pool?.close();
  }
  const drives = await writtenDrives(options.stateDir, options.jobName);
  return { drives, remainingFiles: pending.length, remainingBytes: pending.reduce((n, f) => n + f.size, 0) };
}

/**
 * Journals one copied file once every file placed before it is journaled. Waits for its own
 * copy even when an earlier one failed, so no copy still writes after diskprep reported.
 */
function journalInTurn(previous: Promise<void>, copied: Promise<ManifestFile>, record: (entry: ManifestFile) => Promise<void>): Promise<void> {
  return Promise.allSettled([previous, copied]).then(async ([before, entry]) => {
    if (before.status === 'rejected') throw before.reason;
    if (entry.status === 'rejected') throw entry.reason;
    await record(entry.value);
  });
}

/** Bytes copied between syncs: each sync (and journal append) then covers several files. */
const SYNC_BATCH_BYTES = 128 * 1024 * 1024;

/**
 * Copied files waiting for their sync, journaled together once synced. Syncing every file
 * as it lands made the copying thread pay for each file's writeback in turn; a batch is
 * synced in the background (its files at once, so the file system commits them together)
 * while the next files are sealed. A kill loses at most one batch of copying, never a
 * journaled file, and a failed sync stops every later batch from being journaled.
 */
class SyncBatch {
  private entries: ManifestFile[] = [];
  private files = new Set<string>();
  private bytes = 0;
  private flushing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly drivePath: string,
    private readonly journal: (entries: ManifestFile[]) => Promise<void>,
  ) {}

  add(entry: ManifestFile, file: string, bytes: number): void {
    if (this.failure !== undefined) throw this.failure;
    this.entries.push(entry);
    this.files.add(file);
    this.bytes += bytes;
    if (this.bytes >= SYNC_BATCH_BYTES) this.schedule();
  }

  /** Syncs and journals what is left, and reports any failure of an earlier batch. */
  async flush(): Promise<void> {
    this.schedule();
    await this.flushing;
  }

  private schedule(): void {
    if (this.entries.length === 0) return;
    const entries = this.entries;
    const files = [...this.files];
    this.entries = [];
    this.files = new Set();
    this.bytes = 0;
    this.flushing = this.flushing.then(async () => {
      await Promise.all(files.map((f) => syncFile(f, this.drivePath)));
      await this.journal(entries);
    });
    this.flushing.catch((e) => {
      this.failure ??= e;
    });
  }
}

/** A new drive that cannot take even the next file is refused before anything is written on it. */
function assertRoomForOneFile(state: JobState, targets: DriveTarget[], next: StagedFile | undefined): void {
  if (!next) return;
  const need = sealedLength(next.size, SEAL_OVERHEAD) + RESERVE_BYTES;
  // Only the first new drive is sure to get this file; later ones start at another.
  const target = targets.find((t) => !state.drives.some((d) => d.path === t.path));
  if (target && need > target.capacity)
    throw new DriveseedError(
      'USAGE',
      `drive ${target.path} is too small for even one file (${next.name} needs ${need} bytes, the drive has ${target.capacity})`,
    );
}

export async function listStaged(staging: BlobStore): Promise<StagedFile[]> {
  const files: StagedFile[] = [];
  // Locks belong to the writer on the source computer; they mean nothing in the vault.
  for await (const info of staging.list('')) if (!isLockFile(info.name)) files.push({ name: info.name, size: info.size });
  if (!files.some((f) => f.name === 'config')) throw new DriveseedError('USAGE', `${staging.location} holds no staged backup (no repository config)`);
  return files.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The drive's entry in the job state, saved before anything is written on the drive: a run
 * killed at any moment after that finds the drive its own, and never asks to erase it.
 */
async function openDrive(state: JobState, target: DriveTarget, stateDir: string): Promise<{ drive: DriveState; sink?: DriveSink }> {
  const known = state.drives.find((d) => d.path === target.path);
  // A finished drive may be unplugged already: it is not looked at again.
  if (known?.done) return { drive: known };
  const inspection = await inspectDrive(target.path);
  const sink = driveSink(target.path, inspection.kind);
  if (known) return { drive: known, sink };
  if (state.drives.length >= MAX_DRIVES_PER_JOB) throw new DriveseedError('USAGE', `an import job takes at most ${MAX_DRIVES_PER_JOB} drives`);
  if (target.capacity > MAX_DRIVE_BYTES) throw new DriveseedError('USAGE', `drive ${target.path} is larger than 10 TB, the most a drive may hold`);
  if (inspection.contents.length > 0) {
    throw new DriveseedError('USAGE', `drive ${target.path} is not empty; driveseed will not write over data`, {
      hint: 'erase it first (diskprep asks before it does)',
    });
  }
  const drive: DriveState = { driveId: randomUUID(), path: target.path, key: randomBytes(32).toString('base64'), done: false, capacity: target.capacity };
  state.drives.push(drive);
  await saveState(stateDir, state);
  return { drive, sink };
}

function driveHeaderJson(drive: DriveState, jobName: string, now: Date): string {
  const header: DriveHeader = { format: ENVELOPE_FORMAT, version: ENVELOPE_VERSION, driveId: drive.driveId, jobName, createdAt: now.toISOString() };
  return JSON.stringify(header, null, 2) + '\n';
}

type Copier = (file: StagedFile, storedAs: string, place: PayloadPlace) => Promise<ManifestFile>;
type SealPool = WorkerPool<SealRequest, SealReply>;

function sealPool(): SealPool {
  return new WorkerPool(new URL('./seal-worker.js', import.meta.url));
}

async function copierFor(staging: BlobStore, pool: SealPool | undefined, drivePath: string, drive: DriveState): Promise<Copier> {
  const local = localPathsOf(staging);
  if (pool && local) {
    const key = Buffer.from(drive.key, 'base64');
    return async (file, storedAs, place) => {
      const reply = await pool.run({
        source: local.localPath(file.name),
        size: file.size,
        target: place.file,
        offset: place.offset,
        driveId: drive.driveId,
        storedAs,
        key,
      });
      if ('error' in reply) throw reply.code === 'ENOSPC' ? driveFull(drivePath) : new DriveseedError('IO', reply.error);
      return { name: file.name, length: file.size, storedAs, blocks: reply.blocks };
    };
  }
  const key = await importAeadKey(Buffer.from(drive.key, 'base64'));
  return (file, storedAs, place) => copyFile(staging, file, drivePath, drive.driveId, key, storedAs, place);
}

/** A full drive is the user's to fix (a smaller --capacity, another drive), not a crash. */
function driveFull(drivePath: string): DriveseedError {
  return new DriveseedError('IO', `drive ${drivePath} is full`, { hint: 'give a smaller --capacity, or another drive' });
}

/** Data on the drive before its journal line: a kill or power cut never leaves a journaled file unwritten. */
async function syncFile(path: string, drivePath: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ENOSPC' ? driveFull(drivePath) : e;
  } finally {
    await handle.close();
  }
}

function payloadName(index: number): string {
  return `${PAYLOAD_DIR}/${String(index).padStart(6, '0')}`;
}

/** Encrypts one staged file block by block onto the drive (its sync comes with its batch). */
async function copyFile(
  staging: BlobStore,
  file: StagedFile,
  drivePath: string,
  driveId: string,
  key: CryptoKey,
  storedAs: string,
  place: PayloadPlace,
): Promise<ManifestFile> {
  const handle = await open(place.file, place.offset === undefined ? 'w' : 'r+');
  let position = place.offset ?? 0;
  const blocks: string[] = [];
  try {
    for (let offset = 0, i = 0; offset < file.size || (file.size === 0 && i === 0); offset += BLOCK_SIZE, i++) {
      const length = Math.min(BLOCK_SIZE, file.size - offset);
      const block = length > 0 ? await staging.get(file.name, { offset, length }) : Buffer.alloc(0);
      const [nonce, body] = await sealOffThread(key, block, blockAad(driveId, storedAs, i));
      blocks.push(body.subarray(body.length - TAG_LENGTH).toString('hex'));
      const { bytesWritten } = await handle.writev([nonce, body], position);
      if (bytesWritten < nonce.length + body.length) throw new DriveseedError('IO', `drive ${drivePath}: short write`);
      position += bytesWritten;
    }
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ENOSPC' ? driveFull(drivePath) : e;
  } finally {
    await handle.close();
  }
  return { name: file.name, length: file.size, storedAs, blocks };
}

function payloadIndex(storedAs: string): number {
  return Number(storedAs.slice(storedAs.lastIndexOf('/') + 1));
}

/**
 * Runs at most `limit` copies at once. The first failure is rethrown, but only after the
 * copies already running have settled, so none writes to a drive after diskprep reported.
 */
class CopyWindow {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Tracks a copy already started; waits while `limit` are running. */
  async add(started: Promise<void>): Promise<void> {
    const run = started.catch((e) => {
      this.failure ??= e;
    });
    const tracked = run.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    if (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) await this.drain();
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}

async function writeManifest(sink: DriveSink, keyB64: string, manifest: Manifest): Promise<string> {
  const sealed = sealManifest(Buffer.from(keyB64, 'base64'), manifest);
  await sink.finish(sealed);
  return sha256(sealed);
}

const statePath = (dir: string, job: string) => join(dir, `job-${job}.json`);
const journalPath = (dir: string, driveId: string) => join(dir, `drive-${driveId}.journal`);

async function loadState(dir: string, jobName: string): Promise<JobState> {
  try {
    return JSON.parse(await readFile(statePath(dir, jobName), 'utf8')) as JobState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { jobName, drives: [] };
    throw new DriveseedError('CORRUPT', `${statePath(dir, jobName)} is damaged`, { cause: e });
  }
}

async function saveState(dir: string, state: JobState): Promise<void> {
  const temp = `${statePath(dir, state.jobName)}.tmp`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, statePath(dir, state.jobName));
}

/** One JSON line per file on the drive; a torn last line (killed mid-append) is ignored. */
async function readJournal(dir: string, driveId: string): Promise<ManifestFile[]> {
  let text: string;
  try {
    text = await readFile(journalPath(dir, driveId), 'utf8');
  } catch {
    return [];
  }
  const entries: ManifestFile[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as ManifestFile);
    } catch {
      break;
    }
  }
  return entries;
}

async function appendJournal(dir: string, driveId: string, entries: ManifestFile[]): Promise<void> {
  const path = journalPath(dir, driveId);
  await appendFile(path, entries.map((e) => JSON.stringify(e) + '\n').join(''), { mode: 0o600 });
  const handle = await open(path, 'r+');
  await handle.sync();
  await handle.close();
}

/** Drives a killed or unfinished run already began for this job: they are resumed, never erased. */
export async function drivesStarted(stateDir: string, jobName: string): Promise<{ path: string; driveId: string; done: boolean; capacity?: number }[]> {
  const state = await loadState(stateDir, jobName);
  return state.drives.map((d) => ({ path: d.path, driveId: d.driveId, done: d.done, capacity: d.capacity }));
}

/** A finished drive as its read-back and the job's registration need it. */
export interface WrittenDrive extends PreparedDrive {
  verified: boolean;
}

/** The job's finished drives, with keys, manifest hashes and whether each passed its read-back. */
export async function writtenDrives(stateDir: string, jobName: string): Promise<WrittenDrive[]> {
  const drives: WrittenDrive[] = [];
  for (const d of (await loadState(stateDir, jobName)).drives.filter((d) => d.done)) {
    const journal = await readJournal(stateDir, d.driveId);
    drives.push({
      driveId: d.driveId,
      path: d.path,
      key: d.key,
      manifestSha256: d.manifestSha256!,
      files: journal.length,
      bytes: journal.reduce((n, f) => n + f.length, 0),
      verified: d.verifiedManifest !== undefined && d.verifiedManifest === d.manifestSha256,
    });
  }
  return drives;
}

/** Notes a changed drive record: its read-back passed (`verifiedManifest`), or it is mounted elsewhere now (`path`). */
export async function updateDrive(stateDir: string, jobName: string, driveId: string, change: { verifiedManifest?: string; path?: string }): Promise<void> {
  const state = await loadState(stateDir, jobName);
  const drive = state.drives.find((d) => d.driveId === driveId);
  if (!drive) throw new DriveseedError('NOT_FOUND', `drive ${driveId} is not a drive of job ${jobName}`);
  Object.assign(drive, change);
  await saveState(stateDir, state);
}

/**
 * Seals the named files of a finished drive again, each in its own place, then writes the
 * manifest anew (the blocks' tags change with their nonces): diskprep's answer to a file that
 * failed its read-back. A kill leaves the old journal and manifest, under which the file
 * fails again and is rewritten again. Returns the new manifest's hash.
 */
export async function rewriteFiles(options: {
  staging: BlobStore;
  jobName: string;
  stateDir: string;
  driveId: string;
  /** Payload places to seal again; none rewrites only the manifest. */
  storedAs: ReadonlySet<string>;
}): Promise<string> {
  const state = await loadState(options.stateDir, options.jobName);
  const drive = state.drives.find((d) => d.driveId === options.driveId && d.done);
  if (!drive) throw new DriveseedError('NOT_FOUND', `drive ${options.driveId} is not a finished drive of job ${options.jobName}`);
  const journal = await readJournal(options.stateDir, drive.driveId);
  const sink = driveSink(drive.path, (await inspectDrive(drive.path)).kind);
  await sink.resume(journal.map((f) => ({ storedAs: f.storedAs, sealedLength: sealedLength(f.length, SEAL_OVERHEAD) })));
  const staged = new Map((await listStaged(options.staging)).map((f) => [f.name, f.size]));
  const pool = localPathsOf(options.staging) ? sealPool() : undefined;
  try {
    const copy = await copierFor(options.staging, pool, drive.path, drive);
    for (const [i, entry] of journal.entries()) {
      if (!options.storedAs.has(entry.storedAs)) continue;
      if (staged.get(entry.name) !== entry.length)
        throw new DriveseedError('CORRUPT', `the staged copy of ${entry.name} is gone or changed: it cannot be written onto drive ${drive.path} again`);
      const place = sink.placeOf(entry.storedAs);
      journal[i] = await copy({ name: entry.name, size: entry.length }, entry.storedAs, place);
      await syncFile(place.file, drive.path);
    }
  } finally {
    await pool?.close();
  }
  await replaceJournal(options.stateDir, drive.driveId, journal);
  drive.manifestSha256 = await writeManifest(sink, drive.key, { version: ENVELOPE_VERSION, driveId: drive.driveId, jobName: options.jobName, files: journal });
  drive.verifiedManifest = undefined;
  await saveState(options.stateDir, state);
  return drive.manifestSha256;
}

/**
 * Takes a failing drive out of the job: its files are pending again, for the next drive
 * diskprep is given. Its journals go; the drive itself is left as it is (the user discards it).
 */
export async function dropDrive(stateDir: string, jobName: string, driveId: string): Promise<void> {
  const state = await loadState(stateDir, jobName);
  state.drives = state.drives.filter((d) => d.driveId !== driveId);
  await saveState(stateDir, state);
  await rm(journalPath(stateDir, driveId), { force: true });
  await forgetReadBack(stateDir, driveId);
}

async function replaceJournal(dir: string, driveId: string, entries: ManifestFile[]): Promise<void> {
  const path = journalPath(dir, driveId);
  await writeFile(`${path}.tmp`, entries.map((e) => JSON.stringify(e) + '\n').join(''), { mode: 0o600 });
  const handle = await open(`${path}.tmp`, 'r+');
  await handle.sync();
  await handle.close();
  await rename(`${path}.tmp`, path);
}
