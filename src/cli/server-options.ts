import type { Command } from 'commander';
import type { ServerChoice } from '../client/agent/restore.js';

/** Whose recovery points: this agent's server, or with the owner's publish settings another one, read-only. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <name>', "the server whose recovery points to read (default: this agent's)")
    .option('--vault <name>', "the server's vault (default: this agent's)")
    .option('--publish-settings <file>', "read another server's recovery points as the subscription owner, read-only");
}

export function serverChoiceOf(flags: ServerChoice): ServerChoice {
  return { server: flags.server, vault: flags.vault, publishSettings: flags.publishSettings };
}
