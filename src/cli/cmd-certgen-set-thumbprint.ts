import { Command } from 'commander';
import { useCertificate } from '../client/agent/application-certificates.js';
import { applicationOption } from './options.js';

export default function certgenSetThumbprintCommand(): Command {
  return new Command('set-thumbprint')
    .description('record which certificate the agent uses for an application')
    .addOption(applicationOption())
    .requiredOption('--thumbprint <hex>', 'certificate thumbprint (SHA-256, hex)')
    .action(async (flags: { app: string; thumbprint: string }) => {
      const thumbprint = await useCertificate(flags.app, flags.thumbprint);
      console.log(`application ${flags.app} now uses certificate ${thumbprint}`);
    });
}
