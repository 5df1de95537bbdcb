import type { ServerStatus } from '../../api/schemas.js';
import type { OfflinePolicy, Registration } from './agent-config.js';
import { openVaultSession } from './vault-session.js';

export interface AgentStatus {
  /** The vault's view: the server, its protection, recent jobs and recovery points. */
  status: ServerStatus;
  registration: Registration;
  /** Offline seeding as this agent's policy has it (only the agent knows the staging location). */
  offline?: OfflinePolicy;
}

/** `agent status`. */
export async function agentStatus(): Promise<AgentStatus> {
  const session = await openVaultSession();
  const status = await session.client.request('serverStatus', { params: session.server });
  return { status, registration: session.registration, offline: session.config.policy?.offline };
}
