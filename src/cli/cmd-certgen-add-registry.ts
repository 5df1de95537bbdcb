import { Command } from 'commander';
import { addStorageAccountParams } from '../client/agent/application-certificates.js';
import { publishSettingsOption } from './options.js';

export default function certgenAddRegistryCommand(): Command {
  return new Command('add-registry')
    .description("record the application parameters for a storage account in the agent's configuration")
    .addOption(publishSettingsOption())
    .requiredOption('--params <file>', 'application parameters from create-app')
    .requiredOption('--storage-account <name>', 'storage account these parameters are for')
    .action(async (flags: { publishSettings: string; params: string; storageAccount: string }) => {
      const params = await addStorageAccountParams({ publishSettings: flags.publishSettings, paramsFile: flags.params, storageAccount: flags.storageAccount });
      console.log(`storage account ${flags.storageAccount} now uses application ${params.applicationName} (${params.applicationId})`);
    });
}
