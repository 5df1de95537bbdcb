import type { ExportJob, ShippingDetails } from '../../api/schemas.js';
import { MAX_EXPORT_PACKS_PER_REQUEST } from '../../api/contract.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import type { FileProblem } from '../../core/repo/index-loader.js';
import { Repository } from '../../core/repo/repository.js';
import { openSnapshot } from '../../core/repo/snapshot-reader.js';
import { packsOfSnapshot } from '../../core/repo/snapshot-packs.js';
import { withMetadataCache } from './metadata-cache-directory.js';
import { openVaultSession } from './vault-session.js';

export interface ExportRequest {
  jobName: string;
  /** A recovery point id, a unique prefix of one, or "latest". */
  ref: string;
  password: string;
  /** The blank drives' package and the way back; without them the job waits in Creating. */
  shipping?: ShippingDetails;
  onDamagedFile: (problem: FileProblem) => void;
}

export interface ExportRequested {
  job: ExportJob;
  packs: number;
  packBytes: number;
  /** The job was there already (a rerun): its packs were completed, not created again. */
  resumed: boolean;
}

/**
 * `agent export`: the agent, which alone holds the password, reads the recovery point's trees
 * and the index, and names the packs it needs; the service checks them and adds the
 * repository's metadata, so the data centre writes ciphertext only. A rerun with the same name
 * completes the same job (a kill between the batches of a large list loses nothing).
 */
export async function requestExport(request: ExportRequest): Promise<ExportRequested> {
  const session = await openVaultSession({ interactive: true });
  const repo = withMetadataCache(await Repository.open(session.store, request.password));
  const snapshot = await openSnapshot(repo, request.ref, request.onDamagedFile);
  const packs = await packsOfSnapshot(repo, snapshot);
  const names = [...packs.keys()].sort();
  const params = { ...session.server, jobName: request.jobName };
  let job: ExportJob;
  let resumed = false;
  try {
    job = await session.client.request('createExportJob', {
      params: session.server,
      body: { name: request.jobName, snapshotId: snapshot.id, packs: names.slice(0, MAX_EXPORT_PACKS_PER_REQUEST) },
    });
  } catch (e) {
    if (!isDriveseedError(e, 'CONFLICT') || e.field !== 'name') throw e;
    job = await session.client.request('getExportJob', { params });
    if (job.snapshotId !== snapshot.id)
      throw new DriveseedError('CONFLICT', `export job ${request.jobName} exists already for recovery point ${job.snapshotId.slice(0, 8)}`, {
        hint: 'choose another job name',
        field: 'name',
      });
    resumed = true;
  }
  if (job.state === 'Creating')
    for (let i = resumed ? 0 : MAX_EXPORT_PACKS_PER_REQUEST; i < names.length; i += MAX_EXPORT_PACKS_PER_REQUEST)
      job = await session.client.request('addExportPacks', { params, body: { packs: names.slice(i, i + MAX_EXPORT_PACKS_PER_REQUEST) } });
  if (request.shipping) job = await session.client.request('setExportShipping', { params, body: request.shipping });
  return { job, packs: names.length, packBytes: [...packs.values()].reduce((n, s) => n + s, 0), resumed };
}
