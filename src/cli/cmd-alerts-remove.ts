import { Command } from 'commander';
import { removeAlertTarget } from '../client/common/alert-settings.js';
import { publishSettingsOption } from './options.js';

export default function alertsRemoveCommand(): Command {
  return new Command('remove')
    .description('stop sending alerts to a target (its pending deliveries go with it)')
    .argument('<target-id>', 'as `alerts targets` lists it')
    .addOption(publishSettingsOption())
    .action(async (targetId: string, flags: { publishSettings: string }) => {
      await removeAlertTarget(flags.publishSettings, targetId);
      console.log(`removed alert target ${targetId}`);
    });
}
