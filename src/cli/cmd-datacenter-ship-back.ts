import { Command } from 'commander';
import { findJobId } from '../service/datacenter/receive-drives.js';
import { shipBack } from '../service/importexport/import-jobs.js';
import { shipBackExportJob } from '../service/datacenter/export-drives.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';

export default function datacenterShipBackCommand(): Command {
  return addServiceOptions(new Command('ship-back').description("send a finished job's drives back: the job ends Completed, or Closed if any drive had errors"))
    .requiredOption('--job <name>', 'import or export job name')
    .option('--subscription <id>', 'when several subscriptions have a job of that name')
    .option('--tracking <number>', "an export job's drives: the tracking number of their way back")
    .action(async (flags: ServiceFlags & { job: string; subscription?: string; tracking?: string }) => {
      const state = await withServiceData(
        flags,
        async (db) =>
          (await shipBackExportJob(db, flags.job, flags.tracking, new Date(), flags.subscription)) ??
          shipBack(db, await findJobId(db, flags.job, flags.subscription), new Date()),
      );
      console.log(`drives of ${flags.job} shipped back; the job is ${state}`);
    });
}
