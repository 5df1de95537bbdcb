import { Command } from 'commander';
import { createOfflineApplication, defaultAppName } from '../client/agent/application-certificates.js';
import { printJson, wholeNumber } from './common.js';
import { publishSettingsOption } from './options.js';

export default function certgenCreateAppCommand(): Command {
  return new Command('create-app')
    .description('create the offline-backup application with a new certificate and write its parameters')
    .addOption(publishSettingsOption())
    .option('--name <name>', 'application name', defaultAppName())
    .option('--valid-days <n>', 'certificate validity', wholeNumber, 730)
    .option('--out <file>', 'application parameters file', 'offline-app.json')
    .option('--json', 'print the parameters as JSON')
    .action(async (flags: { publishSettings: string; name: string; validDays: number; out: string; json?: boolean }) => {
      const params = await createOfflineApplication(flags);
      if (flags.json) printJson(params);
      else
        console.log(
          `created application ${params.applicationName} (${params.applicationId}) with certificate ${params.certificateThumbprint}; parameters in ${flags.out}`,
        );
    });
}
