import { rm } from 'node:fs/promises';
import { DriveseedError } from '../../core/errors.js';
import { CONFIG_FILE, DATA_DIR, INDEX_DIR, isLockFile, SNAPSHOTS_DIR } from '../../core/repo/layout.js';
import type { StoredSnapshot } from '../../core/repo/snapshot.js';
import type { BackupJob, SeedCopy } from '../../api/schemas.js';
import { startVaultJob } from './vault-job.js';
import { listAll, type BlobInfo, type BlobStore } from '../../core/storage/blob-store.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { updateAgentConfig, type AgentConfig, type OfflinePolicy } from './agent-config.js';
import { readStagingRecord, stagedRepositoryDirectory, writeStagingRecord } from '../common/staging.js';
import type { VaultSession } from './vault-session.js';
import type { RepositoryOpener } from './repository-opener.js';
import type { Repository } from '../../core/repo/repository.js';

export interface SeedResult {
  job: BackupJob;
  copy: SeedCopy;
  /** Files the import did not deliver (missing, damaged, never-received drives), sent over the network instead. */
  healed: { files: number; bytes: number };
  snapshot: StoredSnapshot;
}

/** What was staged and shipped: a seed (the offline policy) or an offline delta (policy.delta). */
export type StagedImport = Pick<OfflinePolicy, 'staging' | 'jobName' | 'healLimit'>;

/** After a seed lands, backups are online incrementals. */
const markSeeded = (c: AgentConfig) => {
  if (c.policy?.offline) c.policy.offline.seeded = true;
};

/**
 * Seed completion: the service copies the import job's container into this server's vault
 * repository (server-side, verifying every content-addressed file), then the agent compares
 * the vault with the staged repository, file by file, and sends over the network exactly what
 * the import did not deliver. Only then is the seed's recovery point recorded and the staged
 * copy deleted. Every step is idempotent, so a run killed anywhere is simply run again. An
 * offline delta completes the same way (its staged repository holds only what the vault
 * lacked, and the vault's other files are skipped as present); `landed` records which it was.
 */
export async function completeSeed(
  session: VaultSession,
  offline: StagedImport,
  repository: RepositoryOpener,
  landed: (c: AgentConfig) => void = markSeeded,
): Promise<SeedResult> {
  const { finish, fail } = await startVaultJob(session, { kind: 'seed' });
  try {
    const record = await readStagingRecord(offline.staging, offline.jobName);
    if (!record?.snapshotId) throw new DriveseedError('NOT_FOUND', `no staged backup of job ${offline.jobName} in ${offline.staging}`);
    const copy = await session.client.request('completeSeed', { params: session.server, body: { importJob: offline.jobName } });
    const staged = new FsStore(stagedRepositoryDirectory(offline.staging, offline.jobName));
    const healed = await healFromStaging(staged, session.store, offline.healLimit ?? DEFAULT_HEAL_LIMIT, {
      hint: `write them onto a replacement drive (driveseed diskprep --repair --staging ${offline.staging} --job ${offline.jobName} --drive PATH), or raise --heal-limit with agent protect`,
    });
    // Opened only now: before the copy the vault may hold no repository at all.
    const vault = await repository.open(session.store);
    const snapshot = await vault.loadSnapshot(record.snapshotId);
    const s = snapshot.summary;
    const done = await finish({
      state: 'Completed',
      filesNew: s?.filesNew ?? 0,
      filesChanged: s?.filesChanged ?? 0,
      filesUnchanged: s?.filesUnchanged ?? 0,
      bytesRead: s?.bytesRead ?? 0,
      bytesSent: healed.bytes,
      warnings: 0,
      message: `${record.kind === 'delta' ? 'offline delta' : 'seed'} of import job ${offline.jobName}: ${copy.copied} files copied in the service, ${healed.files} healed over the network`,
      recoveryPoint: { snapshotId: snapshot.id, time: snapshot.time, totalBytes: s?.totalBytes ?? 0, files: s?.totalFiles ?? 0 },
    });
    await settleWaitingJobs(session, vault, offline.jobName, [record.snapshotId, ...(record.inTransitSnapshots ?? [])]);
    await updateAgentConfig(landed);
    await writeStagingRecord(offline.staging, { ...record, state: 'seeded' });
    // The staged copy goes only now that the vault holds every file of it.
    await rm(stagedRepositoryDirectory(offline.staging, offline.jobName), { recursive: true, force: true });
    return { job: done, copy, healed, snapshot };
  } catch (e) {
    await fail(e);
    throw e;
  }
}

/**
 * The jobs that waited for this seed end now: those whose snapshot (the staged one, or one made
 * while the drives travelled) the vault can read complete with it; the rest are superseded.
 */
async function settleWaitingJobs(session: VaultSession, vault: Repository, importJob: string, snapshotIds: string[]): Promise<void> {
  const points = [];
  for (const id of new Set(snapshotIds)) {
    const snapshot = await vault.loadSnapshot(id).catch(() => undefined);
    if (!snapshot) continue;
    points.push({ snapshotId: snapshot.id, time: snapshot.time, totalBytes: snapshot.summary?.totalBytes ?? 0, files: snapshot.summary?.totalFiles ?? 0 });
  }
  await session.client.request('settleWaitingJobs', { params: session.server, body: { importJob, points } });
}

/**
 * What a seed completion sends over the network unasked. A thin link is why the seed went on
 * drives: a lost drive's terabytes must not start flowing without the user's say.
 */
export const DEFAULT_HEAL_LIMIT = 1024 ** 3;

/**
 * Makes the vault hold every file of the staged repository: sends those it lacks (or holds at
 * another size) and checks the result. The repository config goes last, as in the service's
 * copy, so a vault that has a config is a vault that has everything. More than `limit` bytes
 * to send is refused before anything is sent.
 */
export async function healFromStaging(
  staged: BlobStore,
  vault: BlobStore,
  limit = Infinity,
  over: { hint?: string } = {},
): Promise<{ files: number; bytes: number }> {
  const wanted = (await listAll(staged, '')).filter((f) => !isLockFile(f.name));
  const missing = await missingFrom(vault, wanted);
  const total = missing.reduce((n, f) => n + f.size, 0);
  if (total > limit) {
    throw new DriveseedError(
      'CONFLICT',
      `the import did not deliver ${missing.length} files (${megabytes(total)} MB), more than the ${megabytes(limit)} MB the seed may heal over the network`,
      { hint: over.hint },
    );
  }
  missing.sort((a, b) => Number(a.name === CONFIG_FILE) - Number(b.name === CONFIG_FILE));
  let bytes = 0;
  for (const file of missing) {
    await vault.put(file.name, await staged.get(file.name));
    bytes += file.size;
  }
  const still = await missingFrom(vault, wanted);
  if (still.length > 0) throw new DriveseedError('STORAGE', `the vault still lacks ${still.length} files of the seed after healing (first: ${still[0].name})`);
  return { files: missing.length, bytes };
}

/**
 * Makes the vault repository the staged one before the seed lands: config, keys, index and
 * snapshots are small (kilobytes per gigabyte of seed), so they go over the network, and a
 * backup while the drives travel then finds the staged snapshot as its parent and every seed
 * blob in the index — it sends only what changed. The config goes last, as everywhere.
 */
export async function shareSeedMetadata(staged: BlobStore, vault: BlobStore): Promise<{ files: number; bytes: number }> {
  const small = (await listAll(staged, '')).filter((f) => !f.name.startsWith(DATA_DIR) && !isLockFile(f.name));
  const missing = await missingFrom(vault, small);
  missing.sort((a, b) => Number(a.name === CONFIG_FILE) - Number(b.name === CONFIG_FILE));
  for (const file of missing) await vault.put(file.name, await staged.get(file.name));
  return { files: missing.length, bytes: missing.reduce((n, f) => n + f.size, 0) };
}

/**
 * Takes back what a seed that will never land put in the vault while it travelled: the
 * staged index and snapshots (they name packs the vault will never get) and the snapshots
 * made in transit on top of them. Without this a later backup would deduplicate against
 * packs that do not exist. Config, keys and the packs sent in transit stay; `forget --prune`
 * collects those packs.
 */
export async function withdrawSeed(vault: BlobStore, offline: Pick<OfflinePolicy, 'staging' | 'jobName' | 'seeded'>): Promise<number> {
  if (offline.seeded) return 0;
  const record = await readStagingRecord(offline.staging, offline.jobName);
  if (!record || record.state === 'seeded') return 0;
  const staged = new FsStore(stagedRepositoryDirectory(offline.staging, offline.jobName));
  const names = [
    ...(await listAll(staged, INDEX_DIR)).map((f) => f.name),
    ...(await listAll(staged, SNAPSHOTS_DIR)).map((f) => f.name),
    ...(record.inTransitSnapshots ?? []).map((id) => `${SNAPSHOTS_DIR}${id}`),
  ];
  let withdrawn = 0;
  for (const name of names) {
    if (!(await vault.exists(name))) continue;
    await vault.delete(name);
    withdrawn++;
  }
  await writeStagingRecord(offline.staging, { ...record, inTransitSnapshots: [] });
  return withdrawn;
}

const megabytes = (n: number) => (n / 1e6).toFixed(1);

async function missingFrom(store: BlobStore, wanted: BlobInfo[]): Promise<BlobInfo[]> {
  const present = new Map((await listAll(store, '')).map((f) => [f.name, f.size]));
  return wanted.filter((f) => present.get(f.name) !== f.size);
}
