import { Command } from 'commander';
import { alertTargets } from '../client/common/alert-settings.js';
import { printJson } from './common.js';
import { publishSettingsOption } from './options.js';

export default function alertsTargetsCommand(): Command {
  return new Command('targets')
    .description("list where alerts go, with each target's last delivery")
    .addOption(publishSettingsOption())
    .option('--json', 'print them as JSON')
    .action(async (flags: { publishSettings: string; json?: boolean }) => {
      const targets = await alertTargets(flags.publishSettings);
      if (flags.json) {
        printJson({ targets });
        return;
      }
      if (targets.length === 0) console.log('no alert targets: add one with `driveseed alerts add --email ADDRESS` or `--webhook URL`');
      for (const t of targets) {
        const last = t.lastDelivery
          ? `  last delivery ${t.lastDelivery.state} after ${t.lastDelivery.attempts} attempts${t.lastDelivery.error ? `: ${t.lastDelivery.error}` : ''}`
          : '';
        console.log(`${t.id}  ${t.kind}  ${t.address}${t.vaultName ? `  vault ${t.vaultName}` : ''}${last}`);
      }
    });
}
