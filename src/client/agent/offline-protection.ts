import { DriveseedError } from '../../core/errors.js';
import { claimStaging, readStagingRecord, STAGING_RECORD_FORMAT, STAGING_RECORD_VERSION } from '../common/staging.js';
import type { OfflinePolicy } from './agent-config.js';
import type { VaultSession } from './vault-session.js';
import { findImportJob } from '../common/import-service.js';

/**
 * Checks everything an offline seed needs before any data is written: the storage account
 * and container exist (made if absent), the job name is free in the service, and the staging
 * folder is this server's (or new).
 */
export async function prepareOfflineSeeding(session: VaultSession, offline: OfflinePolicy, kind?: 'delta'): Promise<void> {
  const { subscriptionId } = session.registration;
  await session.client.request('ensureStorageAccount', { params: { subscriptionId, account: offline.storageAccount } });
  await session.client.request('ensureContainer', { params: { subscriptionId, account: offline.storageAccount, container: offline.container } });
  const existing = await readStagingRecord(offline.staging, offline.jobName);
  if (!existing) {
    const taken = (await findImportJob(session.client, subscriptionId, offline.jobName)) !== undefined;
    if (taken)
      throw new DriveseedError('CONFLICT', `import job name ${offline.jobName} is taken in this subscription`, {
        hint: 'job names are unique: choose another --job',
      });
  }
  const r = session.registration;
  await claimStaging(offline.staging, {
    format: STAGING_RECORD_FORMAT,
    version: STAGING_RECORD_VERSION,
    jobName: offline.jobName,
    storageAccount: offline.storageAccount,
    container: offline.container,
    serviceUrl: r.serviceUrl,
    subscriptionId: r.subscriptionId,
    vault: r.vault,
    serverId: r.serverId,
    serverName: r.serverName,
    createdAt: new Date().toISOString(),
    state: 'staging',
    ...(kind ? { kind } : {}),
  });
}
