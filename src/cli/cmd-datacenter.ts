import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { openStore } from '../core/storage/open-store.js';
import { formatBytes } from './progress.js';
import { printJson } from './common.js';

interface ServiceFlags {
  dataDir: string;
  db?: string;
  blob?: string;
}

function addServiceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'the service\'s data directory', './driveseed-data')
    .option('--db <url>', 'postgres://… when the service uses PostgreSQL')
    .option('--blob <url>', 'the service\'s blob storage, as given to service start');
}

/** The operator works on the service's own database and storage, as the data centre's staff do. */
async function openService(flags: ServiceFlags) {
  const { openDatabase } = await import('../service/db/open-database.js');
  const { blobLocation } = await import('../service/start-service.js');
  const database = await openDatabase(flags.db ?? join(resolve(flags.dataDir), 'driveseed.db'));
  const blobs = await openStore(blobLocation(flags.blob, resolve(flags.dataDir)));
  return { database, blobs };
}

export function datacenterCommand(): Command {
  const dc = new Command('datacenter').description('the data centre\'s side of the import service: incoming jobs, receiving and importing drives, deadlines');

  addServiceOptions(dc.command('jobs').description('list import jobs and their drives'))
    .option('--json', 'print as JSON')
    .action(async (flags: ServiceFlags & { json?: boolean }) => {
      const { database } = await openService(flags);
      const { listImportJobs } = await import('../service/importexport/import-jobs.js');
      const jobs = await listImportJobs(database.db);
      await database.close();
      if (flags.json) return printJson({ jobs });
      for (const job of jobs) {
        console.log(`${job.name}  ${job.state}${job.shipping ? `  ${job.shipping.carrier} ${job.shipping.trackingNumber}` : ''}${job.deadline ? `  (${job.deadline.what} ${job.deadline.at})` : ''}`);
        for (const d of job.drives) console.log(`  drive ${d.driveId}  ${d.state}  ${d.files} files, ${formatBytes(d.bytes)}`);
      }
      console.log(`${jobs.length} import jobs`);
    });

  addServiceOptions(dc.command('receive').description('mark drives received, then unlock, verify and import them'))
    .requiredOption('--job <name>', 'import job name')
    .requiredOption('--drive <path...>', 'drives: mounted directories or image files')
    .option('--subscription <id>', 'when several subscriptions have a job of that name')
    .option('--queue-only', 'only queue the drives; the service instances\' import workers import them')
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: ServiceFlags & { job: string; drive: string[]; subscription?: string; queueOnly?: boolean; json?: boolean }) => {
      const { database, blobs } = await openService(flags);
      const { receiveDrives } = await import('../service/datacenter/receive-drives.js');
      try {
        const results = await receiveDrives(database.db, blobs, flags.job, flags.drive.map((p) => resolve(p)), () => new Date(), { subscriptionId: flags.subscription, queueOnly: flags.queueOnly });
        if (flags.queueOnly && !flags.json) console.log(`${flags.drive.length} drives received and queued for import`);
        if (flags.json) return printJson({ drives: results.map((r) => ({ driveId: r.driveId, state: r.state, filesImported: r.report.filesImported, bytesImported: r.report.bytesImported, errorLog: r.errorLog })) });
        for (const r of results) {
          console.log(`drive ${r.driveId}: ${r.state}, ${r.report.filesImported} files (${formatBytes(r.report.bytesImported)}) imported`);
          if (r.errorLog) console.log(r.errorLog.split('\n').map((l) => `  ${l}`).join('\n'));
        }
      } finally {
        await database.close();
      }
    });

  addServiceOptions(dc.command('ship-back').description('send a finished job\'s drives back: the job ends Completed, or Closed if any drive had errors'))
    .requiredOption('--job <name>', 'import job name')
    .option('--subscription <id>', 'when several subscriptions have a job of that name')
    .action(async (flags: ServiceFlags & { job: string; subscription?: string }) => {
      const { database } = await openService(flags);
      const { shipBack } = await import('../service/importexport/import-jobs.js');
      const { findJobId } = await import('../service/datacenter/receive-drives.js');
      try {
        const state = await shipBack(database.db, await findJobId(database.db, flags.job, flags.subscription), new Date());
        console.log(`drives of ${flags.job} shipped back; the job is ${state}`);
      } finally {
        await database.close();
      }
    });

  addServiceOptions(dc.command('tick').description('apply the deadlines now (expiry, NeverReceived, deletion)'))
    .option('--json', 'print what changed as JSON')
    .action(async (flags: ServiceFlags & { json?: boolean }) => {
      const { database } = await openService(flags);
      const { applyDeadlines } = await import('../service/importexport/import-jobs.js');
      const changed = await applyDeadlines(database.db, new Date());
      await database.close();
      if (flags.json) printJson(changed);
      else console.log(`${changed.expired} jobs expired, ${changed.neverReceived} drives never received, ${changed.deleted} finished jobs deleted`);
    });

  return dc;
}
