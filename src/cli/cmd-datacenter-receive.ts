import { Command } from 'commander';
import { resolve } from 'node:path';
import { receiveDrives } from '../service/datacenter/receive-drives.js';
import { printJson } from './common.js';
import { formatBytes } from './progress.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';
import { counted } from './counted.js';

export default function datacenterReceiveCommand(): Command {
  return addServiceOptions(new Command('receive').description('mark drives received, then unlock, verify and import them'))
    .requiredOption('--job <name>', 'import job name')
    .requiredOption('--drive <path...>', 'drives: mounted directories or image files')
    .option('--subscription <id>', 'when several subscriptions have a job of that name')
    .option('--queue-only', "only queue the drives; the service instances' import workers import them")
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: ServiceFlags & { job: string; drive: string[]; subscription?: string; queueOnly?: boolean; json?: boolean }) => {
      const results = await withServiceData(flags, (db, blobs) =>
        receiveDrives(
          db,
          blobs,
          flags.job,
          flags.drive.map((p) => resolve(p)),
          () => new Date(),
          { subscriptionId: flags.subscription, queueOnly: flags.queueOnly },
        ),
      );
      if (flags.queueOnly && !flags.json) console.log(`${counted(flags.drive.length, 'drive')} received and queued for import`);
      if (flags.json)
        return printJson({
          drives: results.map((r) => ({
            driveId: r.driveId,
            state: r.state,
            filesImported: r.report.filesImported,
            bytesImported: r.report.bytesImported,
            errorLog: r.errorLog,
          })),
        });
      for (const r of results) {
        console.log(`drive ${r.driveId}: ${r.state}, ${r.report.filesImported} files (${formatBytes(r.report.bytesImported)}) imported`);
        if (r.errorLog)
          console.log(
            r.errorLog
              .split('\n')
              .map((l) => `  ${l}`)
              .join('\n'),
          );
      }
    });
}
