import { itemPath, storeItems } from '../../core/backup/command-items.js';
import { backup, findParent, type BackupProgress, type BackupResult } from '../../core/backup/archiver.js';
import { DriveseedError } from '../../core/errors.js';
import { describeHook, hookFailed, hooksOfFailure, withHooks, type HookResult } from '../../core/backup/hooks.js';
import type { Repository } from '../../core/repo/repository.js';
import { importSettled } from '../../api/contract.js';
import { HOOK_OUTPUT_TAIL, type BackupJob, type HookRun, type JobHooks, type StoredItem } from '../../api/schemas.js';
import { startVaultJob } from './vault-job.js';
import { findImportJob } from '../common/import-service.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { LocalCopyStore } from '../../core/storage/local-copy.js';
import { updateAgentConfig, type OfflinePolicy, type PendingDelta, type Policy } from './agent-config.js';
import { readStagingRecord, stagedRepositoryDirectory, writeStagingRecord, type StagingRecord } from '../common/staging.js';
import { completeSeed, shareSeedMetadata, withdrawSeed, type SeedResult, type StagedImport } from './seed-completion.js';
import { openVaultSession, type VaultSession } from './vault-session.js';
import { RepositoryOpener } from './repository-opener.js';
import { trimMetadataCache, withMetadataCache } from './metadata-cache-directory.js';
import { liveProgress, type LiveProgress } from './progress-reporter.js';
import { listAll, type BlobStore } from '../../core/storage/blob-store.js';
import { CONFIG_FILE, KEYS_DIR } from '../../core/repo/layout.js';
import { applyRetention, type RetentionOutcome } from './retention.js';
import { owePostHook, runOwedPostHooks, type OwedPostHook } from './owed-post-hooks.js';

export interface BackupNowResult {
  job: BackupJob;
  /** The snapshot this run made (online or staged); none while waiting for the import. */
  snapshotId?: string;
  warnings: { path: string; message: string }[];
  /** Set when this run completed the seed before its incremental. */
  seed?: SeedResult;
  /** What the policy's retention did after the backup (set when the policy has keep rules and the backup was online). */
  retention?: RetentionOutcome;
  /** Bytes of payload this run moved to and from the service. */
  traffic: { sent: number; received: number };
  /** How the policy's hooks ran, when it has any. */
  hooks?: BackupHooks;
}

export interface BackupHooks {
  pre?: HookResult;
  post?: HookResult;
  /** Post hooks an earlier run owed (it was killed between its pre and post hook), run first. */
  owed?: OwedPostHook[];
}

/** A backup with how its hooks ran and the command items it stored. */
type HookedBackup = BackupResult & { hooks?: BackupHooks; items?: StoredItem[] };

export const WAITING_FOR_IMPORT = 'Waiting for import job to complete';

/**
 * One backup run, online or offline. With offline seeding set, the first run writes the full
 * backup to the staging directory; the runs after it report that they wait for the import
 * job; the first run after the import completes the seed in the vault and goes on with an
 * online incremental, deduplicated against the seed. Each step opens the repository through
 * the run's one opener, so the password becomes the key once per run.
 */
export async function backupNow(password: string, onProgress?: (p: BackupProgress) => void, run: { limitUpload?: number } = {}): Promise<BackupNowResult> {
  const session = await openVaultSession({ limitUpload: run.limitUpload });
  const repository = new RepositoryOpener(password);
  const policy = session.config.policy;
  if (!policy || (policy.paths.length === 0 && !policy.items?.length))
    throw new DriveseedError('USAGE', 'nothing to back up: no protected paths', { hint: 'run `driveseed agent protect PATH…`' });
  if (policy.delta) return deltaOnItsWay(session, policy, policy.delta, repository, onProgress);
  const offline = policy.offline;
  if (!offline || offline.seeded) return { ...(await onlineBackup(session, policy, repository, onProgress)), traffic: session.client.traffic };

  const record = await readStagingRecord(offline.staging, offline.jobName);
  if (!record)
    throw new DriveseedError('NOT_FOUND', `the staging directory of job ${offline.jobName} is gone from ${offline.staging}`, {
      hint: 'run `agent protect … --offline` again',
    });
  if (record.state === 'staging') return { ...(await stagedBackup(session, policy, offline, repository, onProgress)), traffic: session.client.traffic };

  const importJob = await findImportJob(session.client, session.registration.subscriptionId, offline.jobName);
  if (importJob?.state === 'Canceled') {
    // No import will come: waiting would be forever. The staged copy stays for a new job.
    await withdrawSeed(session.store, offline);
    throw new DriveseedError('CONFLICT', `import job ${offline.jobName} was canceled; its drives will not be imported`, {
      hint: 'protect again with --offline and a new --job name, then run diskprep for it',
    });
  }
  if (!importJob || !importSettled(importJob)) {
    const state = importJob
      ? `import job ${offline.jobName} is ${importJob.state}`
      : `import job ${offline.jobName} is not created yet: run \`driveseed diskprep --staging ${offline.staging}\``;
    return {
      ...(await backupInTransit(session, policy, offline, repository, `${WAITING_FOR_IMPORT} (${state})`, onProgress)),
      traffic: session.client.traffic,
    };
  }
  const repairWait = await waitingForRepair(session, record);
  if (repairWait)
    return {
      ...(await backupInTransit(session, policy, offline, repository, `${WAITING_FOR_IMPORT} (${repairWait})`, onProgress)),
      traffic: session.client.traffic,
    };
  const seed = await completeSeed(session, offline, repository);
  const online = await onlineBackup(session, policy, repository, onProgress);
  return { ...online, seed, traffic: session.client.traffic };
}

/**
 * An offline delta on its way is waited for as a seed is: backups meanwhile go online
 * against the delta's snapshot (its index and snapshot shared with the vault, its packs read
 * from staging), and the first run after its import completes it exactly as a seed (the
 * service copies the container, the agent heals what the drives lacked or damaged) before
 * its incremental. A canceled delta is taken back out of the vault, and the next backup
 * sends its changes over the network.
 */
async function deltaOnItsWay(
  session: VaultSession,
  policy: Policy,
  delta: PendingDelta,
  repository: RepositoryOpener,
  onProgress?: (p: BackupProgress) => void,
): Promise<BackupNowResult> {
  const importJob = await findImportJob(session.client, session.registration.subscriptionId, delta.jobName);
  if (importJob?.state === 'Canceled') {
    await withdrawSeed(session.store, { ...delta, seeded: false });
    await updateAgentConfig((c) => {
      delete c.policy?.delta;
    });
    throw new DriveseedError('CONFLICT', `import job ${delta.jobName} of the offline delta was canceled; its drives will not be imported`, {
      hint: 'the next `agent backup-now` sends the changes over the network, or stage a new delta with --offline-delta and another --job',
    });
  }
  const record = await readStagingRecord(delta.staging, delta.jobName);
  if (!record) throw new DriveseedError('NOT_FOUND', `the staging directory of offline delta ${delta.jobName} is gone from ${delta.staging}`);
  const wait =
    !importJob || !importSettled(importJob)
      ? `import job ${delta.jobName} is ${importJob ? importJob.state : 'not created yet: run `driveseed diskprep`'}`
      : await waitingForRepair(session, record);
  if (wait)
    return {
      ...(await backupInTransit(session, policy, delta, repository, `${WAITING_FOR_IMPORT} (offline delta: ${wait})`, onProgress)),
      traffic: session.client.traffic,
    };
  const seed = await completeSeed(session, delta, repository, (c) => {
    delete c.policy?.delta;
  });
  const online = await onlineBackup(session, policy, repository, onProgress);
  return { ...online, seed, traffic: session.client.traffic };
}

/**
 * Replacement drives (diskprep --repair) carry what the first import did not deliver: the
 * seed waits for their import too, rather than sending the same files over the network.
 * A canceled repair job is not waited for; the network heals instead.
 */
async function waitingForRepair(session: VaultSession, record: StagingRecord): Promise<string | undefined> {
  if (!record.repairJob) return undefined;
  const repair = await findImportJob(session.client, session.registration.subscriptionId, record.repairJob);
  if (repair?.state === 'Canceled' || (repair && importSettled(repair))) return undefined;
  return `replacement drives: import job ${record.repairJob} is ${repair ? repair.state : 'not created yet (diskprep --repair has not finished)'}`;
}

async function onlineBackup(session: VaultSession, policy: Policy, repository: RepositoryOpener, onProgress?: (p: BackupProgress) => void) {
  // Opened while the job starts: two round trips at once. The job's live store wraps the same store.
  const opening = repository.openOrInit(session.store);
  opening.catch(() => undefined); // a job that fails to start leaves this rejection unread
  return recordedBackup(session, 'online', session.store, async (live) => {
    const repo = withMetadataCache((await opening).wrappedIn(live.store));
    const result = await lockedBackup(repo, policy, reportingTo(live, onProgress));
    // Only here, on a repository the vault holds whole: a seed in transit is never pruned.
    const retention = policy.retention ? await applyRetention(repo, policy.retention, result.snapshotId) : undefined;
    await trimMetadataCache(repo, result.summary.totalBytes);
    return { result, retention };
  });
}

export function reportingTo(live: LiveProgress, onProgress?: (p: BackupProgress) => void): (p: BackupProgress) => void {
  return (p) => {
    live.update(p);
    onProgress?.(p);
  };
}

/**
 * A backup while the drives travel (backups do not stop while a seed is on its way): the vault repository
 * becomes the staged one (its small files go over the network), and an ordinary incremental
 * against the staged snapshot sends only what changed. Its packs join seed packs the vault
 * does not hold yet, so the job stays Waiting and names no recovery point; the seed copy
 * later skips what the vault already holds, and the next backup after it is restorable.
 */
async function backupInTransit(
  session: VaultSession,
  policy: Policy,
  offline: StagedImport,
  repository: RepositoryOpener,
  waiting: string,
  onProgress?: (p: BackupProgress) => void,
) {
  const staged = new FsStore(stagedRepositoryDirectory(offline.staging, offline.jobName));
  return recordedBackup(session, 'online', session.store, async (live) => {
    await shareSeedMetadata(staged, live.store);
    // The parent snapshot's trees are in seed packs the vault lacks: read them from staging.
    const repo = await repository.open(new LocalCopyStore(live.store, staged));
    const result = await lockedBackup(repo, policy, reportingTo(live, onProgress));
    const record = (await readStagingRecord(offline.staging, offline.jobName))!;
    await writeStagingRecord(offline.staging, { ...record, inTransitSnapshots: [...(record.inTransitSnapshots ?? []), result.snapshotId] });
    const s = result.summary;
    return { result, waiting: `${waiting}; meanwhile ${s.filesNew + s.filesChanged} new or changed files went to the vault over the network` };
  });
}

/**
 * A vault that holds a repository already (backups made while an earlier, canceled seed
 * travelled) keeps it: the new staging repository starts from the vault's config and keys,
 * so the seed lands in the same repository instead of being refused as another one.
 */
export async function adoptVaultIdentity(vault: BlobStore, staging: BlobStore): Promise<void> {
  if ((await staging.exists(CONFIG_FILE)) || !(await vault.exists(CONFIG_FILE))) return;
  for (const key of await listAll(vault, KEYS_DIR)) await staging.put(key.name, await vault.get(key.name));
  await staging.put(CONFIG_FILE, await vault.get(CONFIG_FILE));
}

/** The first full backup, into the staging directory: nothing goes over the network but the job record. */
async function stagedBackup(
  session: VaultSession,
  policy: Policy,
  offline: OfflinePolicy,
  repository: RepositoryOpener,
  onProgress?: (p: BackupProgress) => void,
) {
  const staged = new FsStore(stagedRepositoryDirectory(offline.staging, offline.jobName));
  return recordedBackup(session, 'offline', staged, async (live) => {
    // A run killed half-way left a repository behind: go on in it, reusing what it wrote.
    // The live store counts what goes into staging, so the console shows the stored bytes rise.
    await adoptVaultIdentity(session.store, live.store);
    const repo = await repository.openOrInit(live.store);
    const result = await lockedBackup(repo, policy, reportingTo(live, onProgress));
    const record = (await readStagingRecord(offline.staging, offline.jobName))!;
    await writeStagingRecord(offline.staging, { ...record, state: 'staged', snapshotId: result.snapshotId });
    return {
      result,
      waiting: `first backup staged in ${staged.root}; next: \`driveseed diskprep --staging ${offline.staging} --job ${offline.jobName}\`. ${WAITING_FOR_IMPORT}`,
    };
  });
}

/**
 * The lock, the index and the parent snapshot are each a round trip or more over the link,
 * and none needs another: they are asked for at once. Loading the index before the lock is
 * held is safe, as a pruner's exclusive lock, written before or after, makes one of the two fail.
 */
export async function lockedBackup(repo: Repository, policy: Policy, onProgress?: (p: BackupProgress) => void): Promise<HookedBackup> {
  // Before this run's own pre hook: what an earlier run froze is thawed first.
  const owed = await runOwedPostHooks();
  if (policy.preHook === undefined && policy.postHook === undefined) return withOwed(await archive(repo, policy, onProgress), owed);
  // Around the lock too: a pre hook that takes an LVM snapshot may run long, and holds no lock meanwhile.
  const { result, pre, post } = await withHooks(
    { pre: policy.preHook, post: policy.postHook, owe: owePostHook },
    () => archive(repo, policy, onProgress),
    (failed) => new DriveseedError('IO', `${describeHook('pre', failed)}; no backup was made`),
  ).catch((e: unknown) => {
    if (owed.length > 0) owedOfFailures.set(e as object, owed);
    throw e;
  });
  // A failed post hook keeps the backup: as a warning, the job is CompletedWithWarnings.
  if (post && hookFailed(post)) result.warnings.push({ path: '(post hook)', message: describeHook('post', post) });
  return withOwed({ ...result, hooks: { ...(pre ? { pre } : {}), ...(post ? { post } : {}) } }, owed);
}

/** Owed post hooks that ran before a run failed: the failed job's record has them too. */
const owedOfFailures = new WeakMap<object, OwedPostHook[]>();

/** What the vault's job record keeps of the hooks: each bounded as FinishJob allows (api/schemas.ts). */
export function jobHooksRecord(hooks: BackupHooks | undefined): JobHooks | undefined {
  if (!hooks || (!hooks.pre && !hooks.post && !hooks.owed?.length)) return undefined;
  const run = (h: HookResult): HookRun => ({
    command: h.command.slice(0, 2000),
    exitCode: h.exitCode,
    signal: h.signal?.slice(0, 32) ?? null,
    output: h.output.slice(-HOOK_OUTPUT_TAIL),
    durationMs: Math.max(0, Math.round(h.durationMs)),
  });
  return {
    ...(hooks.pre ? { pre: run(hooks.pre) } : {}),
    ...(hooks.post ? { post: run(hooks.post) } : {}),
    ...(hooks.owed?.length ? { owed: hooks.owed.slice(-8).map(run) } : {}),
  };
}

function hooksOfFailedRun(error: unknown): BackupHooks | undefined {
  const hooks = hooksOfFailure(error);
  const owed = typeof error === 'object' && error !== null ? owedOfFailures.get(error) : undefined;
  return hooks || owed ? { ...hooks, ...(owed ? { owed } : {}) } : undefined;
}

/** The owed post hooks in the run's report; one that failed is a warning of this run. */
function withOwed(result: HookedBackup, owed: OwedPostHook[]): HookedBackup {
  if (owed.length === 0) return result;
  for (const hook of owed.filter(hookFailed)) result.warnings.push({ path: '(post hook of an interrupted run)', message: describeHook('post', hook) });
  return { ...result, hooks: { ...result.hooks, owed } };
}

async function archive(repo: Repository, policy: Policy, onProgress?: (p: BackupProgress) => void): Promise<HookedBackup> {
  const items = policy.items ?? [];
  const ready = Promise.all([repo.loadIndex(), findParent(repo, [...policy.paths, ...items.map((i) => itemPath(i.name))])]);
  const locked = repo.lock(false, 'agent backup-now');
  const [lock, loaded] = await Promise.allSettled([locked, ready]);
  if (lock.status === 'rejected') throw lock.reason;
  try {
    if (loaded.status === 'rejected') throw loaded.reason;
    // Items first, under the lock: a dump that fails fails the run before any file is read.
    const extraRoot = await storeItems(repo, items);
    const result = await backup(repo, {
      paths: policy.paths,
      excludes: policy.excludes,
      oneFileSystem: policy.oneFileSystem,
      excludeCaches: policy.excludeCaches,
      tags: ['agent'],
      parent: loaded.value[1],
      onProgress,
      extraRoot,
    });
    return extraRoot.items?.length ? { ...result, items: extraRoot.items } : result;
  } finally {
    await lock.value.release();
  }
}

/**
 * Runs a backup as a vault job. A failure still ends the job (Failed, with the error) so the
 * console never shows a job running forever; a recovery point is only named once every blob
 * it needs is stored — and an offline one not before the vault holds it.
 */
export async function recordedBackup(
  session: VaultSession,
  kind: 'online' | 'offline',
  store: BlobStore,
  run: (live: LiveProgress) => Promise<{ result: HookedBackup; waiting?: string; retention?: RetentionOutcome }>,
) {
  const { job, finish, fail } = await startVaultJob(session, { kind });
  const live = liveProgress(store, (progress) => session.client.request('reportProgress', { params: { ...session.server, jobId: job.id }, body: progress }));
  try {
    const { result, waiting, retention } = await run(live);
    live.stop();
    const s = result.summary;
    const hooks = jobHooksRecord(result.hooks);
    const counts = {
      filesNew: s.filesNew,
      filesChanged: s.filesChanged,
      filesUnchanged: s.filesUnchanged,
      bytesRead: s.bytesRead,
      warnings: result.warnings.length,
      ...(hooks ? { hooks } : {}),
      ...(result.items ? { items: result.items } : {}),
    };
    const done = waiting
      ? await finish({ state: 'Waiting', ...counts, bytesSent: kind === 'offline' ? 0 : s.bytesAdded, message: waiting, pendingSnapshotId: result.snapshotId })
      : await finish({
          state: result.warnings.length > 0 ? 'CompletedWithWarnings' : 'Completed',
          ...counts,
          bytesSent: s.bytesAdded,
          recoveryPoint: { snapshotId: result.snapshotId, time: result.snapshot.time, totalBytes: s.totalBytes, files: s.totalFiles },
          ...(retention ? { retention: { forgotten: retention.forgotten.map((p) => p.id), bytesFreed: retention.bytesFreed } } : {}),
          ...(retention?.note ? { message: retention.note.slice(0, 2000) } : {}),
        });
    return {
      job: done,
      snapshotId: result.snapshotId,
      warnings: result.warnings,
      ...(result.hooks ? { hooks: result.hooks } : {}),
      ...(retention ? { retention } : {}),
    };
  } catch (e) {
    live.stop();
    await fail(e, jobHooksRecord(hooksOfFailedRun(e)));
    throw e;
  }
}
