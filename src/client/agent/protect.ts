import { resolve } from 'node:path';
import { updateAgentConfig, type OfflinePolicy, type Policy } from './agent-config.js';
import { prepareOfflineSeeding } from './offline-protection.js';
import { assertCron } from './schedule.js';
import { withdrawSeed } from './seed-completion.js';
import { openVaultSession } from './vault-session.js';

export interface Protecting {
  paths: string[];
  excludes: string[];
  schedule?: string;
  limitUpload?: number;
  offline?: OfflinePolicy;
}

/**
 * `agent protect`: what this server backs up and when, told to the vault and saved in the
 * agent's config. With offline seeding, everything the seed needs is checked (and claimed)
 * before any data is written.
 */
export async function protect(request: Protecting): Promise<Policy> {
  if (request.schedule) await assertCron(request.schedule);
  const { offline } = request;
  const session = await openVaultSession();
  if (offline) await prepareOfflineSeeding(session, offline);
  // A seed given up for another (or for none) takes back what it put in the vault in transit.
  const previous = session.config.policy?.offline;
  if (previous && previous.jobName !== offline?.jobName) await withdrawSeed(session.store, previous);
  const policy = {
    paths: request.paths.map((p) => resolve(p)),
    excludes: request.excludes,
    schedule: request.schedule,
    limitUpload: request.limitUpload,
    offline,
  };
  await session.client.request('setPolicy', {
    params: session.server,
    body: { paths: policy.paths, ...(policy.schedule ? { schedule: policy.schedule } : {}) },
  });
  await updateAgentConfig((c) => {
    c.policy = policy;
  });
  return policy;
}
