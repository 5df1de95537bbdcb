import { Command } from 'commander';
import { exportCertificate } from '../client/agent/application-certificates.js';
import { wholeNumber } from './common.js';

export default function certgenExportCertCommand(): Command {
  return new Command('export-cert')
    .description("write this machine's certificate (public part only) for upload to an existing application")
    .option('--app <id>', 'the application whose certificate to export (default: the only one)')
    .option('--new', 'make a new certificate (for an application created elsewhere)')
    .option('--valid-days <n>', 'validity of a new certificate', wholeNumber, 730)
    .option('--out <file>', 'where to write it', 'driveseed-offline.cer')
    .action(async (flags: { app?: string; new?: boolean; validDays: number; out: string }) => {
      const thumbprint = await exportCertificate({ app: flags.app, fresh: flags.new, validDays: flags.validDays, out: flags.out });
      console.log(`wrote certificate ${thumbprint} (no private key) to ${flags.out}`);
    });
}
