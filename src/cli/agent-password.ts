import { loadAgentConfig } from '../client/agent/agent-config.js';
import { readPassword } from './common.js';

/** The agent takes the password like the engine does, or from the file recorded at registration. */
export async function agentPassword(flags: { passwordFile?: string }): Promise<string> {
  const config = await loadAgentConfig();
  return readPassword({ passwordFile: flags.passwordFile ?? (process.env.DRIVESEED_PASSWORD ? undefined : config.passwordFile) });
}
