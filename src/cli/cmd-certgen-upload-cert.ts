import { Command } from 'commander';
import { uploadCertificate } from '../client/agent/application-certificates.js';
import { applicationOption, publishSettingsOption } from './options.js';

export default function certgenUploadCertCommand(): Command {
  return new Command('upload-cert')
    .description('add a certificate to an existing application (the manual path)')
    .addOption(publishSettingsOption())
    .addOption(applicationOption())
    .requiredOption('--cert <file>', 'certificate file (.cer, PEM, public part)')
    .action(async (flags: { publishSettings: string; app: string; cert: string }) => {
      const uploaded = await uploadCertificate({ publishSettings: flags.publishSettings, app: flags.app, certFile: flags.cert });
      console.log(`uploaded certificate ${uploaded.thumbprint} to application ${flags.app} (valid until ${uploaded.notAfter})`);
    });
}
