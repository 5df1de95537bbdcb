import { Command } from 'commander';
import { applyDeadlines } from '../service/importexport/import-jobs.js';
import { printJson } from './common.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';
import { counted } from './counted.js';

export default function datacenterTickCommand(): Command {
  return addServiceOptions(new Command('tick').description('apply the deadlines now (expiry, NeverReceived, deletion)'))
    .option('--json', 'print what changed as JSON')
    .action(async (flags: ServiceFlags & { json?: boolean }) => {
      const changed = await withServiceData(flags, (db) => applyDeadlines(db, new Date()));
      if (flags.json) printJson(changed);
      else
        console.log(
          `${counted(changed.expired, 'job')} expired, ${counted(changed.neverReceived, 'drive')} never received, ${counted(changed.deleted, 'finished job')} deleted`,
        );
    });
}
