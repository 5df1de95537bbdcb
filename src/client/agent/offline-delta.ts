import { resolve } from 'node:path';
import type { BackupProgress } from '../../core/backup/archiver.js';
import { DriveseedError } from '../../core/errors.js';
import { CONFIG_FILE } from '../../core/repo/layout.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { OverlayStore } from '../../core/storage/overlay.js';
import { assertJobName, readStagingRecord, stagedRepositoryDirectory, writeStagingRecord } from '../common/staging.js';
import { updateAgentConfig, type PendingDelta } from './agent-config.js';
import { adoptVaultIdentity, lockedBackup, recordedBackup, reportingTo, WAITING_FOR_IMPORT, type BackupNowResult } from './backup-now.js';
import { prepareOfflineSeeding } from './offline-protection.js';
import { RepositoryOpener } from './repository-opener.js';
import { openVaultSession } from './vault-session.js';

export interface OfflineDeltaOptions {
  jobName: string;
  staging: string;
  /** Where the delta's import lands; a server seeded offline uses its seed's account and container. */
  storageAccount?: string;
  container?: string;
}

/**
 * `agent backup-now --offline-delta`: a large change goes on drives too. The backup runs
 * against the vault's repository as usual (its index, its parent snapshot), but what it
 * writes goes into a staging directory (core/storage/overlay.ts): only what the vault lacks,
 * new packs with their index and the snapshot, beside a copy of the vault's config and keys
 * so diskprep, the import and the seed completion treat it exactly as a seed, as a second
 * import job into the same repository. Its recovery point stays Waiting until the delta lands.
 */
export async function stageOfflineDelta(password: string, options: OfflineDeltaOptions, onProgress?: (p: BackupProgress) => void): Promise<BackupNowResult> {
  assertJobName(options.jobName);
  const session = await openVaultSession();
  const policy = session.config.policy;
  if (!policy || (policy.paths.length === 0 && !policy.items?.length))
    throw new DriveseedError('USAGE', 'nothing to back up: no protected paths', { hint: 'run `driveseed agent protect PATH…`' });
  if (policy.offline && !policy.offline.seeded)
    throw new DriveseedError('USAGE', `the seed of import job ${policy.offline.jobName} has not landed yet; an offline delta comes after it`, {
      hint: 'changes made meanwhile travel with the seed: run `agent backup-now`',
    });
  if (policy.delta)
    throw new DriveseedError('CONFLICT', `offline delta ${policy.delta.jobName} is on its way; one delta at a time`, {
      hint: 'the first `agent backup-now` after its import completes it',
    });
  const storageAccount = options.storageAccount ?? policy.offline?.storageAccount;
  const container = options.container ?? policy.offline?.container;
  if (!storageAccount || !container)
    throw new DriveseedError('USAGE', 'an offline delta needs --storage-account and --container (a server seeded offline uses its seed’s)');
  if (!(await session.store.exists(CONFIG_FILE)))
    throw new DriveseedError('USAGE', 'the vault holds no repository of this server yet: a first backup goes on drives as a seed', {
      hint: 'agent protect … --offline --staging DIR --job NAME --storage-account A --container C',
    });
  const delta: PendingDelta = { staging: resolve(options.staging), jobName: options.jobName, storageAccount, container, healLimit: policy.offline?.healLimit };
  await prepareOfflineSeeding(session, delta, 'delta');
  const record = (await readStagingRecord(delta.staging, delta.jobName))!;
  if (record.kind !== 'delta')
    throw new DriveseedError('CONFLICT', `${delta.staging} holds the seed of import job ${delta.jobName}, not an offline delta`, {
      hint: 'choose another --job',
    });
  const staged = new FsStore(stagedRepositoryDirectory(delta.staging, delta.jobName));
  const repository = new RepositoryOpener(password);
  const result =
    record.state === 'staging'
      ? await recordedBackup(session, 'offline', staged, async (live) => {
          // A run killed half-way left part of the delta behind: it goes on in it.
          await adoptVaultIdentity(session.store, live.store);
          const repo = await repository.open(new OverlayStore(live.store, session.store));
          const result = await lockedBackup(repo, policy, reportingTo(live, onProgress));
          await writeStagingRecord(delta.staging, { ...record, state: 'staged', snapshotId: result.snapshotId });
          return {
            result,
            waiting: `offline delta staged in ${staged.root}: ${result.summary.bytesAdded} bytes the vault lacks; next: \`driveseed diskprep --staging ${delta.staging} --job ${delta.jobName}\`. ${WAITING_FOR_IMPORT}`,
          };
        })
      : undefined;
  // Only now: backups wait for a delta once it is whole (a killed run left the policy as it was).
  await updateAgentConfig((c) => {
    if (c.policy) c.policy.delta = delta;
  });
  if (!result)
    throw new DriveseedError('USAGE', `offline delta ${delta.jobName} is staged already`, {
      hint: `next: driveseed diskprep --staging ${delta.staging} --job ${delta.jobName}`,
    });
  return { ...result, traffic: session.client.traffic };
}
