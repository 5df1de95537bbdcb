import type { Command } from 'commander';
import { openVaultSession } from '../client/agent/vault-session.js';
import { DriveseedError } from '../core/errors.js';
import { readConfig } from '../core/repo/config.js';
import type { MasterKey } from '../core/repo/crypto.js';
import { openKeyFile } from '../core/repo/key-file.js';
import type { BlobStore } from '../core/storage/blob-store.js';
import { openStore } from '../core/storage/open-store.js';
import { agentPassword } from './agent-password.js';
import { addRepoOptions, readPassword, repoLocation, type RepoFlags } from './common.js';

export interface KeyFlags extends RepoFlags {
  agent?: boolean;
  newPasswordFile?: string;
  json?: boolean;
}

/** `--repo LOC` for any repository, or `--agent` for this agent's repository in the vault (the agent holds its key). */
export function addKeyOptions(cmd: Command): Command {
  return addRepoOptions(cmd).option('--agent', "this agent's repository in the vault, instead of --repo");
}

export interface OpenedKeys {
  store: BlobStore;
  master: MasterKey;
  /** The key file the password opened. */
  keyId: string;
}

export async function openKeys(flags: KeyFlags): Promise<OpenedKeys> {
  if (flags.agent && flags.repo) throw new DriveseedError('USAGE', '--agent and --repo exclude each other');
  const store = flags.agent ? (await openVaultSession({ interactive: true })).store : await openStore(repoLocation(flags));
  const password = flags.agent ? await agentPassword(flags) : readPassword(flags);
  await readConfig(store);
  return { store, ...(await openKeyFile(store, password)) };
}

/** The new password: from --new-password-file or DRIVESEED_NEW_PASSWORD, never empty, never a flag's value. */
export function readNewPassword(flags: KeyFlags): string {
  if (flags.newPasswordFile) return readPassword({ passwordFile: flags.newPasswordFile });
  const env = process.env.DRIVESEED_NEW_PASSWORD;
  if (env) return env;
  throw new DriveseedError('USAGE', 'no new password given', { hint: 'pass --new-password-file FILE or set DRIVESEED_NEW_PASSWORD' });
}
