import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import type { CreateImportJob, ImportJob } from '../../api/schemas.js';
import type { ImportJobsApi } from '../diskprep/diskprep.js';
import type { ShippingApi, ShippingDetails } from '../diskprep/shipping.js';
import type { StagingRecord } from './staging.js';
import { loadAgentConfig } from '../agent/agent-config.js';
import { readPublishSettings } from './publish-settings.js';
import { ServiceClient } from '../../api/service-client.js';
import { openVaultSession } from '../agent/vault-session.js';

export type ImportService = ImportJobsApi & ShippingApi;

/**
 * The import service for diskprep: with a publish-settings file on a copy computer (the
 * seed's p:), or through this machine's agent registration when diskprep runs on the source
 * computer. Either way it must be the subscription the job was staged for.
 */
export async function openImportService(record: Pick<StagingRecord, 'subscriptionId' | 'serviceUrl'>, publishSettings?: string): Promise<ImportService> {
  let client: ServiceClient;
  if (publishSettings) {
    const settings = await readPublishSettings(publishSettings);
    if (settings.subscriptionId !== record.subscriptionId) {
      throw new DriveseedError(
        'USAGE',
        `${publishSettings} is for subscription ${settings.subscriptionId}, but the job was staged for ${record.subscriptionId}`,
      );
    }
    client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  } else {
    const config = await loadAgentConfig();
    if (config.registration?.subscriptionId !== record.subscriptionId) {
      throw new DriveseedError('USAGE', 'this machine is not the agent that staged the job', {
        hint: 'pass --publish-settings FILE (needed when the copy computer is not the source computer)',
      });
    }
    client = (await openVaultSession()).client;
  }
  return importServiceOver(client, record.subscriptionId);
}

export function importServiceOver(client: ServiceClient, subscriptionId: string): ImportService {
  return {
    get: (name: string) => findImportJob(client, subscriptionId, name),
    create: (job: CreateImportJob) => client.request('createImportJob', { params: { subscriptionId }, body: job }),
    listContainer: async (account: string, container: string) =>
      (await client.request('listContainerBlobs', { params: { subscriptionId, account, container } })).blobs,
    setShipping: (name: string, details: ShippingDetails) => client.request('setShipping', { params: { subscriptionId, jobName: name }, body: details }),
  };
}

/** The subscription's import job of that name, or undefined when it has none (not created yet, or expired). */
export async function findImportJob(client: ServiceClient, subscriptionId: string, name: string): Promise<ImportJob | undefined> {
  try {
    return await client.request('getImportJob', { params: { subscriptionId, jobName: name } });
  } catch (e) {
    if (isDriveseedError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}
