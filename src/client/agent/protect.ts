import { resolve } from 'node:path';
import { DriveseedError } from '../../core/errors.js';
import { listAll } from '../../core/storage/blob-store.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { findImportJob } from '../common/import-service.js';
import { readStagingRecord, stagedRepositoryDirectory } from '../common/staging.js';
import { loadAgentConfig, updateAgentConfig, type OfflinePolicy, type Policy } from './agent-config.js';
import { prepareOfflineSeeding } from './offline-protection.js';
import { changedFields, mergePolicy, type PolicyChange } from './policy-merge.js';
import { agentTimeZone, policyDocument } from './policy-document.js';
import { assertCron } from './schedule.js';
import { withdrawSeed } from './seed-completion.js';
import { openVaultSession, type VaultSession } from './vault-session.js';

export interface Protecting extends PolicyChange {
  /** Give up a seed that is staged or on its way, and send everything over the network instead. */
  force?: boolean;
}

export interface Protected {
  policy: Policy;
  /** What this run changed ("paths", "schedule", …); empty when nothing. */
  changed: string[];
  /** Set when a staged or shipped seed was given up for online backups. */
  abandonedSeed?: AbandonedSeed;
}

/** A seed that would be given up: where it is, and what its data costs over the link instead. */
export interface AbandonedSeed {
  jobName: string;
  where: string;
  bytes: number;
}

/**
 * `agent protect`: what this server backs up and when, told to the vault and saved in the
 * agent's config. It changes only what it is given (see policy-merge.ts). With offline
 * seeding, everything the seed needs is checked (and claimed) before any data is written;
 * giving up a seed already staged or shipped needs `force`, since its data then goes over
 * the very link the drives were meant to spare.
 */
export async function protect(request: Protecting): Promise<Protected> {
  if (request.schedule) await assertCron(request.schedule);
  const previous = (await loadAgentConfig()).policy;
  const policy = mergePolicy(previous, { ...request, paths: request.paths?.map((p) => resolve(p)) });
  const session = await openVaultSession();
  const abandonedSeed = previous?.offline && !policy.offline ? await seedAtStake(session, previous.offline) : undefined;
  if (abandonedSeed && !request.force) {
    throw new DriveseedError(
      'CONFLICT',
      `the seed of import job ${abandonedSeed.jobName} is ${abandonedSeed.where}; going online sends its ${describeBytes(abandonedSeed.bytes)} over the network instead`,
      { hint: 'add --force to do that anyway, or leave out --online to keep offline seeding' },
    );
  }
  const offline = policy.offline;
  if (offline && !offline.seeded && request.offline) await prepareOfflineSeeding(session, offline);
  // A seed given up for another (or for none) takes back what it put in the vault in transit.
  if (previous?.offline && previous.offline.jobName !== offline?.jobName) await withdrawSeed(session.store, previous.offline);
  const timeZone = agentTimeZone();
  await session.client.request('setPolicy', {
    params: session.server,
    body: {
      paths: policy.paths,
      ...(policy.schedule ? { schedule: policy.schedule } : {}),
      ...(policy.retention ? { retention: policy.retention } : {}),
      ...(timeZone ? { timeZone } : {}),
      // The whole policy, so a machine that recovers this server gets all of it back.
      document: policyDocument(policy, timeZone),
    },
  });
  await updateAgentConfig((c) => {
    c.policy = policy;
  });
  return { policy, changed: changedFields(previous, policy), ...(abandonedSeed ? { abandonedSeed } : {}) };
}

/**
 * The seed going online would throw away: one staged (complete in staging) or shipped, not yet
 * in the vault. A seed still being written, or already seeded, costs nothing to leave.
 */
async function seedAtStake(session: VaultSession, offline: OfflinePolicy): Promise<AbandonedSeed | undefined> {
  if (offline.seeded) return undefined;
  const record = await readStagingRecord(offline.staging, offline.jobName);
  if (!record || record.state !== 'staged') return undefined;
  const job = await findImportJob(session.client, session.registration.subscriptionId, offline.jobName);
  const where = job && job.state !== 'Canceled' ? `shipped (import job ${job.state})` : `staged in ${offline.staging}`;
  const files = await listAll(new FsStore(stagedRepositoryDirectory(offline.staging, offline.jobName)), '').catch(() => []);
  return { jobName: offline.jobName, where, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/** As the CLI's progress shows sizes, with the exact count: the user decides on this number. */
function describeBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]} (${n} bytes)`;
}
