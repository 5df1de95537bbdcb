import { Command } from 'commander';
import { listImportJobs } from '../service/importexport/import-jobs.js';
import { listExportJobs } from '../service/importexport/export-jobs.js';
import { printJson } from './common.js';
import { formatBytes } from './progress.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';
import { counted } from './counted.js';

export default function datacenterJobsCommand(): Command {
  return addServiceOptions(new Command('jobs').description('list import and export jobs and their drives'))
    .option('--json', 'print as JSON')
    .action(async (flags: ServiceFlags & { json?: boolean }) => {
      const { jobs, exportJobs } = await withServiceData(flags, async (db) => ({ jobs: await listImportJobs(db), exportJobs: await listExportJobs(db) }));
      if (flags.json) return printJson({ jobs, exportJobs });
      for (const job of jobs) {
        console.log(
          `${job.name}  ${job.state}${job.shipping ? `  ${job.shipping.carrier} ${job.shipping.trackingNumber}` : ''}${job.deadline ? `  (${job.deadline.what} ${job.deadline.at})` : ''}`,
        );
        for (const d of job.drives) console.log(`  drive ${d.driveId}  ${d.state}  ${counted(d.files, 'file')}, ${formatBytes(d.bytes)}`);
      }
      console.log(counted(jobs.length, 'import job'));
      if (exportJobs.length === 0) return;
      for (const job of exportJobs) {
        console.log(
          `${job.name}  ${job.state}  export of ${job.serverName} ${job.snapshotId.slice(0, 8)}: ${counted(job.files, 'file')}, ${formatBytes(job.bytes)}${job.shipping ? `  ${job.shipping.carrier} ${job.shipping.trackingNumber}` : ''}${job.deadline ? `  (${job.deadline.what} ${job.deadline.at})` : ''}`,
        );
        for (const d of job.drives) console.log(`  drive ${d.driveId}  ${d.state}  ${counted(d.files, 'file')}, ${formatBytes(d.bytes)}`);
      }
      console.log(counted(exportJobs.length, 'export job'));
    });
}
