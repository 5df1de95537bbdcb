import type { ServerStatus } from '../../api/schemas.js';
import type { OfflinePolicy, PendingDelta, Registration } from './agent-config.js';
import { openVaultSession } from './vault-session.js';
import { adviseDelta, lastBackupStart, type DeltaAdvice } from './delta-advice.js';
import { RateSchedule } from '../../core/util/rate-schedule.js';

export interface AgentStatus {
  /** The vault's view: the server, its protection, recent jobs and recovery points. */
  status: ServerStatus;
  registration: Registration;
  /** Offline seeding as this agent's policy has it (only the agent knows the staging location). */
  offline?: OfflinePolicy;
  /** Ship or upload the change since the last backup, at the policy's upload limit (set only when the policy has one). */
  deltaAdvice?: DeltaAdvice;
  /** The offline delta on its way, if any. */
  delta?: PendingDelta;
}

/** `agent status`. */
export async function agentStatus(): Promise<AgentStatus> {
  const session = await openVaultSession();
  const status = await session.client.request('serverStatus', { params: session.server });
  const policy = session.config.policy;
  const since = lastBackupStart(status);
  // Only between backups of a seeded vault: a seed or delta on its way is what the next backup waits for.
  const settled = policy && !policy.delta && (!policy.offline || policy.offline.seeded);
  const bandwidth = policy?.limitUpload === undefined ? undefined : rateNow(policy.limitUpload);
  const deltaAdvice = settled && bandwidth && since ? await adviseDelta({ policy, since, bandwidth }) : undefined;
  return { status, registration: session.registration, offline: policy?.offline, delta: policy?.delta, ...(deltaAdvice ? { deltaAdvice } : {}) };
}

/** The upload limit in effect now: a constant rate, or the rule of a schedule that matches the local time (none: no advice). */
function rateNow(limit: number | string): number | undefined {
  return typeof limit === 'number' ? limit : RateSchedule.parse(limit).rateAt(new Date());
}
