import { Command } from 'commander';
import { requestExport } from '../client/agent/export.js';
import { SHIPPING_FIELDS, shippingProblem, type ShippingDetails } from '../client/diskprep/shipping.js';
import { DriveseedError } from '../core/errors.js';
import { agentPassword } from './agent-password.js';
import { printJson, warnDamagedFile } from './common.js';
import { counted } from './counted.js';
import { formatBytes } from './progress.js';

/** `--ship-date` → `shipDate`: the key commander files a flag's value under. */
const optionKey = (flag: string): string => flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

export default function agentExportCommand(): Command {
  const cmd = new Command('export')
    .description('restore by drive: ask the service for an export job of a recovery point, to be written onto blank drives you send to the data centre')
    .requiredOption('--job <name>', 'export job name (lower-case letters, digits, - and _)')
    .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .option('--json', 'print the job as JSON');
  for (const field of SHIPPING_FIELDS) cmd.option(`${field.flag} <value>`, `shipping of the blank drives: ${field.rule}`);
  return cmd.action(async (ref: string, flags: Record<string, string | undefined> & { job: string; passwordFile?: string; json?: boolean }) => {
    const shipping = shippingFrom(flags);
    const { job, packs, packBytes, resumed } = await requestExport({
      jobName: flags.job,
      ref,
      password: await agentPassword(flags),
      shipping,
      onDamagedFile: (problem) => warnDamagedFile(problem, false),
    });
    if (flags.json) return printJson({ ...job, packs, packBytes, resumed });
    console.log(
      `export job ${job.name} ${resumed ? 'was there already' : 'created'}: recovery point ${job.snapshotId.slice(0, 8)}, ${counted(packs, 'pack')} (${formatBytes(packBytes)}), ${counted(job.files, 'file')} (${formatBytes(job.bytes)}) to write`,
    );
    console.log(`export job ${job.name} is ${job.state}${job.deadline ? `; ${job.deadline.what} ${job.deadline.at}` : ''}`);
    if (job.state === 'Creating')
      console.log(
        `send blank drives, then enter the shipping details: driveseed agent export --job ${job.name} ${SHIPPING_FIELDS.map((f) => `${f.flag} …`).join(' ')}`,
      );
    else console.log(`blank drives go to:\n  ${job.shippingAddress ?? '(the service has no shipping address set)'}`);
  });
}

/** All shipping flags or none: a partial set is named, as diskprep does. */
function shippingFrom(flags: Record<string, string | undefined>): ShippingDetails | undefined {
  const given = SHIPPING_FIELDS.filter((f) => flags[optionKey(f.flag)] !== undefined);
  if (given.length === 0) return undefined;
  const missing = SHIPPING_FIELDS.filter((f) => flags[optionKey(f.flag)] === undefined);
  if (missing.length > 0) throw new DriveseedError('USAGE', `shipping details need ${missing.map((f) => f.flag).join(', ')}`);
  const details: Partial<ShippingDetails> = {};
  for (const field of SHIPPING_FIELDS) {
    const value = flags[optionKey(field.flag)]!;
    const problem = shippingProblem(field.key, value);
    if (problem) throw new DriveseedError('USAGE', `${field.flag}: ${problem}`, { field: field.key });
    details[field.key] = value;
  }
  return details as ShippingDetails;
}
