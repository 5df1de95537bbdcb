import { Command } from 'commander';
import { listAlerts } from '../client/common/alert-settings.js';
import { printJson } from './common.js';
import { publishSettingsOption } from './options.js';

export default function alertsListCommand(): Command {
  return new Command('list')
    .description('list the open alerts, newest first (--all: resolved ones too)')
    .addOption(publishSettingsOption())
    .option('--all', 'resolved alerts too')
    .option('--json', 'print them as JSON')
    .action(async (flags: { publishSettings: string; all?: boolean; json?: boolean }) => {
      const alerts = await listAlerts(flags.publishSettings, Boolean(flags.all));
      if (flags.json) {
        printJson({ alerts });
        return;
      }
      if (alerts.length === 0) console.log(flags.all ? 'no alerts yet' : 'no open alerts');
      for (const a of alerts) console.log(`${a.raisedAt}  ${a.resolvedAt ? `resolved ${a.resolvedAt}` : 'OPEN'}  ${a.kind}  ${a.message}`);
    });
}
