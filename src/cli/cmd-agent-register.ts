import { Command } from 'commander';
import { registerAgent } from '../client/agent/register.js';
import { defaultServerName } from '../client/agent/vault-session.js';
import { printJson } from './common.js';
import { publishSettingsOption } from './options.js';

export default function agentRegisterCommand(): Command {
  return new Command('register')
    .description('register this server with a vault (made if absent), with its own application and certificate')
    .addOption(publishSettingsOption())
    .requiredOption('--vault <name>', 'vault name (lower-case letters, digits, -)')
    .option('--name <server>', 'server name in the vault', defaultServerName())
    .option('--password-file <file>', 'repository password file, remembered for scheduled backups')
    .option('--json', 'print the registration as JSON')
    .action(async (flags: { publishSettings: string; vault: string; name: string; passwordFile?: string; json?: boolean }) => {
      const server = await registerAgent({
        publishSettings: flags.publishSettings,
        vault: flags.vault,
        serverName: flags.name,
        passwordFile: flags.passwordFile,
      });
      if (flags.json) printJson(server);
      else console.log(`registered server ${server.name} (${server.id}) with vault ${flags.vault}`);
    });
}
