import { Command } from 'commander';
import { applyDeadlines } from '../service/importexport/import-jobs.js';
import { applyExportDeadlines } from '../service/importexport/export-jobs.js';
import { printJson } from './common.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';
import { counted } from './counted.js';

export default function datacenterTickCommand(): Command {
  return addServiceOptions(new Command('tick').description('apply the deadlines now (expiry, NeverReceived, deletion)'))
    .option('--json', 'print what changed as JSON')
    .action(async (flags: ServiceFlags & { json?: boolean }) => {
      const { changed, exports } = await withServiceData(flags, async (db) => ({
        changed: await applyDeadlines(db, new Date()),
        exports: await applyExportDeadlines(db, new Date()),
      }));
      if (flags.json) printJson({ ...changed, exports });
      else {
        console.log(
          `${counted(changed.expired, 'job')} expired, ${counted(changed.neverReceived, 'drive')} never received, ${counted(changed.deleted, 'finished job')} deleted`,
        );
        if (exports.expired + exports.deleted > 0)
          console.log(`export jobs: ${counted(exports.expired, 'job')} expired, ${counted(exports.deleted, 'finished job')} deleted`);
      }
    });
}
