import { assertItemName, dedupWarning } from '../core/backup/command-items.js';
import { Command } from 'commander';
import type { RetentionChange } from '../client/agent/policy-merge.js';
import { protect, type Protecting } from '../client/agent/protect.js';
import { assertJobName } from '../client/common/staging.js';
import { DriveseedError } from '../core/errors.js';
import { parseSize } from '../core/util/units.js';
import { RateSchedule } from '../core/util/rate-schedule.js';
import { collect } from './common.js';
import { readExcludeFile } from './exclude-file.js';
import { excludeOption } from './options.js';
import { addKeepOptions, keepPolicyOf, type KeepFlags } from './keep-options.js';
import { printPolicy } from './policy-output.js';

interface ProtectFlags extends Omit<KeepFlags, 'keepTag'> {
  keepTag?: string[] | false;
  retention?: false;
  schedule?: string | false;
  exclude?: string[];
  excludeFile?: string[];
  excludes?: false;
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  limitUpload?: string;
  offline?: boolean;
  online?: boolean;
  staging?: string;
  job?: string;
  storageAccount?: string;
  container?: string;
  healLimit?: string;
  force?: boolean;
  item?: string;
  command?: string | false;
  preHook?: string | false;
  postHook?: string | false;
}

export default function agentProtectCommand(): Command {
  const command = new Command('protect')
    .description(
      'set what this server backs up, and when; changes only what it is given. With --offline, the first full backup goes to staging and travels on drives',
    )
    .argument('[path...]', 'files and directories to protect (replace the current ones; kept when none are given)')
    .option('--schedule <cron>', 'cron expression for `agent run` (e.g. "0 2 * * *")')
    .option('--no-schedule', 'remove the schedule')
    .addOption(excludeOption())
    .option('--exclude-file <file>', "exclude the patterns in FILE, one a line (# comments), with --exclude's (repeatable)", collect)
    .option('--no-excludes', 'remove all exclude patterns')
    .option('-x, --one-file-system', 'stay on the file systems of the paths (a mount point below is kept, empty)')
    .option('--no-one-file-system', 'walk into other file systems mounted below the paths again')
    .option('--exclude-caches', 'leave out the contents of directories tagged with a CACHEDIR.TAG (bford.info/cachedir)')
    .option('--no-exclude-caches', 'back up tagged cache directories again')
    .option(
      '--limit-upload <schedule>',
      `upload bandwidth limit: a rate (2M, 512KiB: bytes per second) or rules by the local time, the first matching wins: 'Mon-Fri 08:00-18:00=2M, *=20M'; "off" removes it`,
    )
    .option('--offline', 'offline seeding: stage the first full backup for shipping on drives (flags not given keep their values)')
    .option('--online', 'stop offline seeding; a seed staged or shipped is then given up only with --force')
    .option('--staging <dir>', 'staging location for the offline backup (a local disk or a share the copy computer reads)')
    .option('--job <name>', 'import job name: lower-case letters, digits, - and _, starting with a letter')
    .option('--storage-account <name>', 'storage account the import lands in (made if absent)')
    .option('--container <name>', 'container in that storage account (made if absent)')
    .option(
      '--heal-limit <size>',
      'most the seed completion sends over the network for what the import did not deliver; more needs replacement drives (default 1GiB)',
    )
    .option('--item <name>', 'a protected item that is a command (with --command): its output is backed up beside the paths, one file')
    .option('--command <cmd>', 'the command of --item, run through the shell, e.g. "pg_dump -Fp sales" (uncompressed dumps deduplicate)')
    .option('--no-command', 'stop protecting --item')
    .option('--pre-hook <cmd>', 'run CMD (through the shell) before each backup; if it fails there is no backup and the job fails')
    .option('--no-pre-hook', 'remove the pre hook')
    .option('--post-hook <cmd>', 'run CMD (through the shell) after each backup, whether it succeeded or not; if it fails the job completes with warnings')
    .option('--no-post-hook', 'remove the post hook')
    .option('--force', 'give up a staged or shipped seed for online backups (its data then goes over the network)');
  // Retention: applied by the agent after each backup it runs; each rule merges alone.
  return addKeepOptions(command, 'off')
    .option('--no-keep-tag', 'remove the --keep-tag rule')
    .option('--no-retention', 'remove every keep rule: the vault keeps every recovery point')
    .action(async (paths: string[], flags: ProtectFlags) => {
      const { policy, changed, abandonedSeed } = await protect({ ...changeOf(flags), ...(paths.length > 0 ? { paths } : {}), force: flags.force });
      console.log(changed.length > 0 ? `changed: ${changed.join(', ')}` : 'nothing changed');
      const warning = typeof flags.command === 'string' ? dedupWarning(flags.command) : undefined;
      if (warning) process.stderr.write(`warning: item ${flags.item}: ${warning}\n`);
      if (abandonedSeed)
        console.log(`gave up the seed of import job ${abandonedSeed.jobName}: the next backup sends about ${abandonedSeed.bytes} bytes over the network`);
      printPolicy(policy);
    });
}

/** The flags given, as a change: what is not given stays as the policy has it. */
function changeOf(flags: ProtectFlags): Protecting {
  if (flags.offline && flags.online) throw new DriveseedError('USAGE', '--offline and --online exclude each other');
  const offlineFlags = { staging: flags.staging, jobName: flags.job, storageAccount: flags.storageAccount, container: flags.container };
  const givenOffline = Object.entries(offlineFlags).filter(([, v]) => v !== undefined);
  if (!flags.offline && givenOffline.length > 0) throw new DriveseedError('USAGE', '--staging, --job, --storage-account and --container go with --offline');
  if (flags.job) assertJobName(flags.job);
  if (flags.item !== undefined) assertItemName(flags.item);
  if ((flags.item === undefined) !== (flags.command === undefined)) throw new DriveseedError('USAGE', '--item and --command (or --no-command) go together');
  // The file is read now: the policy keeps the patterns, so the agent's runs do not depend on the file staying there.
  const excludes = flags.exclude || flags.excludeFile ? [...(flags.exclude ?? []), ...(flags.excludeFile ?? []).flatMap(readExcludeFile)] : undefined;
  return {
    ...(excludes ? { excludes } : flags.excludes === false ? { excludes: [] } : {}),
    ...(flags.oneFileSystem !== undefined ? { oneFileSystem: flags.oneFileSystem } : {}),
    ...(flags.excludeCaches !== undefined ? { excludeCaches: flags.excludeCaches } : {}),
    ...(typeof flags.schedule === 'string' ? { schedule: flags.schedule } : flags.schedule === false ? { schedule: null } : {}),
    ...(flags.limitUpload !== undefined ? { limitUpload: uploadLimitOf(flags.limitUpload) } : {}),
    ...(flags.offline ? { offline: Object.fromEntries(givenOffline) } : flags.online ? { offline: null } : {}),
    ...(flags.healLimit ? { healLimit: parseSize(flags.healLimit) } : {}),
    ...(flags.item !== undefined ? { item: { name: flags.item, command: flags.command === false ? null : flags.command! } } : {}),
    ...(typeof flags.preHook === 'string' ? { preHook: flags.preHook } : flags.preHook === false ? { preHook: null } : {}),
    ...(typeof flags.postHook === 'string' ? { postHook: flags.postHook } : flags.postHook === false ? { postHook: null } : {}),
    ...retentionChangeOf(flags),
  };
}

/** A rate is kept as a number (as before schedules), rules as their normalised text; "off" clears. */
function uploadLimitOf(text: string): number | string | null {
  if (/^(off|none|0)$/i.test(text.trim())) return null;
  const schedule = RateSchedule.parse(text);
  return schedule.constantRate ?? schedule.text;
}

function retentionChangeOf(flags: ProtectFlags): Pick<Protecting, 'retention'> {
  const { keepTag, keepWithin, ...counts } = flags;
  const change: RetentionChange = {
    ...keepPolicyOf(counts),
    ...(keepWithin !== undefined ? { within: keepWithin === 'off' ? null : keepWithin } : {}),
    ...(keepTag === false ? { tags: [] } : keepTag ? { tags: keepTag } : {}),
  };
  if (flags.retention === false) {
    if (Object.keys(change).length > 0) throw new DriveseedError('USAGE', '--no-retention removes every keep rule; it cannot go with --keep-… flags');
    return { retention: null };
  }
  return Object.keys(change).length > 0 ? { retention: change } : {};
}
