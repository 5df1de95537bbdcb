import { Command } from 'commander';
import { recoverServer } from '../client/agent/recover-server.js';
import { registerAgent } from '../client/agent/register.js';
import { defaultServerName } from '../client/agent/vault-session.js';
import { agentPassword } from './agent-password.js';
import { printJson } from './common.js';
import { publishSettingsOption } from './options.js';

interface RegisterFlags {
  publishSettings: string;
  vault: string;
  name: string;
  recover?: string;
  passwordFile?: string;
  json?: boolean;
}

export default function agentRegisterCommand(): Command {
  return new Command('register')
    .description('register this server with a vault (made if absent), with its own application and certificate')
    .addOption(publishSettingsOption())
    .requiredOption('--vault <name>', 'vault name (lower-case letters, digits, -)')
    .option('--name <server>', 'server name in the vault', defaultServerName())
    .option(
      '--recover <server>',
      "take over a lost server: this machine signs in as it (the repository password is checked first) and the old machine's certificates are revoked",
    )
    .option('--password-file <file>', 'repository password file, remembered for scheduled backups')
    .option('--json', 'print the registration as JSON')
    .action(async (flags: RegisterFlags) => {
      if (flags.recover) return recover(flags, flags.recover);
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

async function recover(flags: RegisterFlags, serverName: string): Promise<void> {
  const recovered = await recoverServer({
    publishSettings: flags.publishSettings,
    vault: flags.vault,
    serverName,
    password: await agentPassword(flags),
    passwordFile: flags.passwordFile,
  });
  if (flags.json) {
    printJson(recovered);
    return;
  }
  const { server, revoked } = recovered;
  console.log(`took over server ${server.name} (${server.id}) in vault ${flags.vault}; this machine signs in with certificate ${recovered.thumbprint}`);
  console.log(
    `revoked ${revoked.length} certificate${revoked.length === 1 ? ' of the lost machine: it gets' : 's of the lost machine: they get'} no token any more`,
  );
  if (!recovered.passwordChecked) console.log('the server has no backups in the vault yet, so the password could not be checked');
  if (recovered.policy) {
    console.log(`took over its policy from the vault: ${recovered.policy.paths.length} paths (\`driveseed agent policy\` prints all of it)`);
    // Commands this machine will run on every backup came from the vault: the user sees them before the first one.
    const commands = [
      ...(recovered.policy.preHook ? [`pre hook: ${recovered.policy.preHook}`] : []),
      ...(recovered.policy.postHook ? [`post hook: ${recovered.policy.postHook}`] : []),
      ...(recovered.policy.items ?? []).map((i) => `item ${i.name}: ${i.command}`),
    ];
    for (const c of commands) console.log(`  runs with each backup, ${c}`);
  }
  console.log('next: `driveseed agent recovery-points`, then `driveseed agent restore latest --target DIR`');
}
