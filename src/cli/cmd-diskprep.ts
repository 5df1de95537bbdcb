import { Command } from 'commander';
import type { ImportJob } from '../api/schemas.js';
import type { Prompter } from '../client/diskprep/diskprep.js';
import { SHIPPING_FIELDS, type ShippingDetails } from '../client/diskprep/shipping.js';
import { enterShipping, stagedJobStatus, verifyDrives, writeDrives } from '../client/diskprep/staged-job.js';
import type { VerifiedDrive } from '../client/diskprep/verify-drives.js';
import { DriveseedError } from '../core/errors.js';
import { parseSize } from '../core/util/units.js';
import { printJson } from './common.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';
import { terminalPrompter } from './prompter.js';
import { counted } from './counted.js';

interface DiskprepFlags {
  staging?: string;
  publishSettings?: string;
  job?: string;
  drive?: string[];
  capacity?: string;
  yes?: boolean;
  repair?: boolean;
  updateShipping?: boolean;
  status?: boolean;
  verify?: boolean;
  writeOnly?: boolean;
  json?: boolean;
  carrier?: string;
  tracking?: string;
  shipDate?: string;
  contactName?: string;
  phone?: string;
  email?: string;
  returnAddress?: string;
  country?: string;
  postalCode?: string;
}

export default function diskprepCommand(): Command {
  return new Command('diskprep')
    .description('copy computer: write a staged offline backup onto encrypted drives and create the import job; shipping details; job status')
    .option('-s, --staging <dir>', 'staging location (on the source computer: the one `agent protect --offline` set)')
    .option('-p, --publish-settings <file>', 'publish-settings file (needed when this is not the source computer)')
    .option('--job <name>', 'import job (asked when the staging location holds several)')
    .option('-d, --drive <path...>', 'drives: mounted directories or image files (NAME.img); asked for when absent or full')
    .option('--capacity <size>', "usable bytes per drive, e.g. 500GB (default: free space of its file system, or a pre-sized blank image's size)")
    .option('-y, --yes', 'erase non-empty drives, and confirm shipping details, without asking')
    .option(
      '--repair',
      "replacement drives: once the import is done, write what it did not deliver as the job's repair job (with --update-shipping or --status: that job)",
    )
    .option('-u, --update-shipping', 'enter or correct the shipping details of the job')
    .option('--status', "show the import job's state and each drive's")
    .option(
      '--verify',
      'read every block of the drives back and check it against their manifests (drives found wherever they are mounted now); registers the import job once all verify, if it is not yet',
    )
    .option('--write-only', 'write the drives and stop: read them back and register the import job later with --verify')
    .option('--carrier <name>', 'shipping: carrier')
    .option('--tracking <number>', 'shipping: tracking number (unique over all import jobs)')
    .option('--ship-date <date>', 'shipping: date the package goes, YYYY-MM-DD')
    .option('--contact-name <name>', 'shipping: contact name')
    .option('--phone <number>', 'shipping: contact phone')
    .option('--email <address>', 'shipping: contact email')
    .option('--return-address <text>', 'shipping: where the drives go back to')
    .option('--country <code>', 'shipping: country, two letters')
    .option('--postal-code <code>', 'shipping: postal code')
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: DiskprepFlags) => {
      if ([flags.updateShipping, flags.status, flags.verify, flags.writeOnly].filter(Boolean).length > 1)
        throw new DriveseedError('USAGE', '--update-shipping, --status, --verify and --write-only go one at a time');
      const prompter = terminalPrompter();
      try {
        if (flags.status) await showStatus(flags, prompter);
        else if (flags.verify) await verify(flags, prompter);
        else if (flags.updateShipping) await shipping(flags, prompter);
        else await prepare(flags, prompter);
      } finally {
        prompter.close();
      }
    });
}

async function prepare(flags: DiskprepFlags, prompter: Prompter): Promise<void> {
  const progress = new ProgressLine();
  const { staging, result } = await writeDrives(
    flags,
    {
      drives: flags.drive ?? [],
      capacity: flags.capacity ? parseSize(flags.capacity) : undefined,
      yes: !!flags.yes,
      writeOnly: !!flags.writeOnly,
      onProgress: (p) => progress.update((t) => `${renderTransfer(t, p.filesDone, p.bytesDone, p.bytesTotal)}  ${p.file}`),
      onVerifyProgress: (p) => progress.update((t) => `reading back ${renderTransfer(t, 0, p.bytesDone, p.bytesTotal)}  drive ${p.path}`),
    },
    prompter,
  );
  progress.done();
  if (flags.json)
    return printJson({
      job: result.job,
      alreadyRegistered: result.alreadyRegistered,
      repair: result.repair,
      drives: result.drives.map(({ driveId, path, files, bytes }) => ({ driveId, path, files, bytes })),
      verified: result.verified,
    });
  if (!result.job) {
    for (const d of result.drives) console.log(`drive ${d.driveId} at ${d.path}: ${counted(d.files, 'file')}, ${formatBytes(d.bytes)}`);
    console.log(`drives written, not read back yet; the import job is created once they verify:`);
    console.log(`  driveseed diskprep --verify --staging ${staging} --job ${result.record.jobName}${flags.repair ? ' --repair' : ''} --drive PATH...`);
    return;
  }
  printVerified(result.verified ?? []);
  if (result.alreadyRegistered) console.log(`import job ${result.job.name} is registered already (${result.job.state}); nothing to do`);
  else {
    if (result.repair)
      console.log(
        `replacement drives for import job ${result.record.jobName}: the ${result.repair.files} files (${formatBytes(result.repair.bytes)}) its import did not deliver`,
      );
    for (const d of result.drives) console.log(`drive ${d.driveId} at ${d.path}: ${counted(d.files, 'file')}, ${formatBytes(d.bytes)}`);
    console.log(`import job ${result.job.name} created with ${counted(result.job.drives.length, 'drive')} (${result.job.state})`);
  }
  console.log(`ship the drives to:\n  ${result.job.shippingAddress ?? '(the service has no shipping address set)'}`);
  console.log(
    `then enter the shipping details: driveseed diskprep --update-shipping --staging ${staging} --job ${result.record.jobName}${result.repair || flags.repair ? ' --repair' : ''}`,
  );
}

async function verify(flags: DiskprepFlags, prompter: Prompter): Promise<void> {
  const progress = new ProgressLine();
  const result = await verifyDrives(flags, flags.drive ?? [], prompter, (p) =>
    progress.update((t) => `reading back ${renderTransfer(t, 0, p.bytesDone, p.bytesTotal)}  drive ${p.path}`),
  );
  progress.done();
  if (flags.json) return printJson({ job: result.job, registeredNow: result.registeredNow, verified: result.verified });
  printVerified(result.verified);
  if (result.registeredNow) console.log(`import job ${result.job.name} created with ${counted(result.job.drives.length, 'drive')} (${result.job.state})`);
  else console.log(`import job ${result.job.name} is registered already (${result.job.state}); its drives verify as registered`);
}

function printVerified(verified: VerifiedDrive[]): void {
  for (const d of verified) {
    const how = d.already
      ? 'verified before'
      : d.fromDevice
        ? 'read back from the drive'
        : 'read back through the page cache (the file system refused direct reads)';
    const rewritten = d.rewritten.length > 0 ? `; ${counted(d.rewritten.length, 'file')} written again` : '';
    console.log(`drive ${d.driveId} at ${d.path}: every block verified, ${how}${rewritten}`);
  }
}

async function shipping(flags: DiskprepFlags, prompter: Prompter): Promise<void> {
  const updated = await enterShipping(flags, shippingGiven(flags), !!flags.yes, prompter);
  if (flags.json) return printJson(updated);
  console.log(`import job ${updated.name} is ${updated.state}${updated.deadline ? `; ${updated.deadline.what} ${updated.deadline.at}` : ''}`);
}

function shippingGiven(flags: DiskprepFlags): Partial<ShippingDetails> {
  const byFlag: Record<keyof ShippingDetails, string | undefined> = {
    carrier: flags.carrier,
    trackingNumber: flags.tracking,
    shipDate: flags.shipDate,
    contactName: flags.contactName,
    phone: flags.phone,
    email: flags.email,
    returnAddress: flags.returnAddress,
    country: flags.country,
    postalCode: flags.postalCode,
  };
  const given: Partial<ShippingDetails> = {};
  for (const field of SHIPPING_FIELDS) if (byFlag[field.key]) given[field.key] = byFlag[field.key];
  return given;
}

async function showStatus(flags: DiskprepFlags, prompter: Prompter): Promise<void> {
  const { record, job } = await stagedJobStatus(flags, prompter);
  if (flags.json) return printJson(job ? { staged: record, job } : { staged: record });
  if (!job) {
    console.log(`import job ${record.jobName}: not created yet (staged backup is ${record.state}); run diskprep with --drive`);
    return;
  }
  printJob(job);
}

function printJob(job: ImportJob): void {
  console.log(`import job ${job.name}: ${job.state} since ${job.stateChangedAt}${job.deadline ? `; ${job.deadline.what} ${job.deadline.at}` : ''}`);
  if (job.shipping) console.log(`  shipped with ${job.shipping.carrier}, tracking ${job.shipping.trackingNumber}, on ${job.shipping.shipDate}`);
  for (const d of job.drives)
    console.log(`  drive ${d.driveId}: ${d.state}, ${counted(d.files, 'file')}, ${formatBytes(d.bytes)}${d.hasErrorLog ? ' (see its error log)' : ''}`);
}
