import { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { addAlertTarget } from '../client/common/alert-settings.js';
import { printJson } from './common.js';
import { publishSettingsOption } from './options.js';

interface AddFlags {
  publishSettings: string;
  email?: string;
  webhook?: string;
  vault?: string;
  json?: boolean;
}

export default function alertsAddCommand(): Command {
  return new Command('add')
    .description('send alerts to an e-mail address or a signed webhook (docs/alerts.md)')
    .addOption(publishSettingsOption())
    .option('--email <address>', 'mail alerts to this address')
    .option('--webhook <url>', 'POST alerts to this http(s) URL, signed with a secret printed once')
    .option('--vault <name>', "only this vault's alerts (default: all of the subscription's)")
    .option('--json', 'print the target as JSON')
    .action(async (flags: AddFlags) => {
      if (Boolean(flags.email) === Boolean(flags.webhook)) throw new DriveseedError('USAGE', 'give one of --email ADDRESS or --webhook URL');
      const target = await addAlertTarget(flags.publishSettings, {
        kind: flags.email ? 'email' : 'webhook',
        address: (flags.email ?? flags.webhook)!,
        ...(flags.vault ? { vaultName: flags.vault } : {}),
      });
      if (flags.json) {
        printJson(target);
        return;
      }
      console.log(`alerts${target.vaultName ? ` of vault ${target.vaultName}` : ''} go to ${target.kind} ${target.address} (target ${target.id})`);
      if (target.secret) console.log(`signing secret (shown this once; check the driveseed-signature header with it): ${target.secret}`);
    });
}
