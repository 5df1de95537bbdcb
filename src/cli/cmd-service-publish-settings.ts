import { Command } from 'commander';
import { downloadPublishSettings } from '../client/common/publish-settings-download.js';
import { printJson } from './common.js';

export default function servicePublishSettingsCommand(): Command {
  return new Command('publish-settings')
    .description('write the publish-settings file the other tools take with --publish-settings')
    .requiredOption('--service <url>', 'service URL, e.g. http://127.0.0.1:7070')
    .requiredOption('--subscription <id>', 'subscription id')
    .option('--owner-key <key>', 'owner key (or env DRIVESEED_OWNER_KEY)')
    .requiredOption('--out <file>', 'file to write (mode 0600)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { service: string; subscription: string; ownerKey?: string; out: string; json?: boolean }) => {
      const ownerKey = flags.ownerKey ?? process.env.DRIVESEED_OWNER_KEY ?? '';
      const serviceUrl = await downloadPublishSettings(flags.out, { serviceUrl: flags.service, subscriptionId: flags.subscription, ownerKey });
      if (flags.json) printJson({ out: flags.out, serviceUrl, subscriptionId: flags.subscription });
      else console.log(`wrote publish settings for subscription ${flags.subscription} to ${flags.out}`);
    });
}
