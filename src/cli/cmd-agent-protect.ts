import { Command } from 'commander';
import { resolve } from 'node:path';
import type { OfflinePolicy } from '../client/agent/agent-config.js';
import { protect } from '../client/agent/protect.js';
import { assertJobName, jobDirectory } from '../client/common/staging.js';
import { DriveseedError } from '../core/errors.js';
import { parseRate, parseSize } from '../core/util/units.js';
import { excludeOption } from './options.js';

interface ProtectFlags {
  schedule?: string;
  exclude?: string[];
  limitUpload?: string;
  offline?: boolean;
  staging?: string;
  job?: string;
  storageAccount?: string;
  container?: string;
  healLimit?: string;
}

export default function agentProtectCommand(): Command {
  return new Command('protect')
    .description('set what this server backs up, and when; with --offline, the first full backup goes to staging and travels on drives')
    .argument('<path...>', 'files and directories to protect')
    .option('--schedule <cron>', 'cron expression for `agent run` (e.g. "0 2 * * *")')
    .addOption(excludeOption())
    .option('--limit-upload <rate>', 'upload bandwidth limit, e.g. 2M or 512KiB (bytes per second)')
    .option('--offline', 'offline seeding: stage the first full backup for shipping on drives')
    .option('--staging <dir>', 'staging location for the offline backup (a local disk or a share the copy computer reads)')
    .option('--job <name>', 'import job name: lower-case letters, digits, - and _, starting with a letter')
    .option('--storage-account <name>', 'storage account the import lands in (made if absent)')
    .option('--container <name>', 'container in that storage account (made if absent)')
    .option(
      '--heal-limit <size>',
      'most the seed completion sends over the network for what the import did not deliver; more needs replacement drives (default 1GiB)',
    )
    .action(async (paths: string[], flags: ProtectFlags) => {
      const offline = flags.offline ? offlinePolicyOf(flags) : undefined;
      const policy = await protect({
        paths,
        excludes: flags.exclude ?? [],
        schedule: flags.schedule,
        limitUpload: flags.limitUpload ? parseRate(flags.limitUpload) : undefined,
        offline,
      });
      console.log(`protecting ${policy.paths.join(', ')}${policy.schedule ? ` on schedule "${policy.schedule}"` : ''}`);
      if (offline)
        console.log(
          `offline seeding: the next backup goes to ${jobDirectory(offline.staging, offline.jobName)} for import job ${offline.jobName} into ${offline.storageAccount}/${offline.container}`,
        );
    });
}

function offlinePolicyOf(flags: ProtectFlags): OfflinePolicy {
  const missing = (['staging', 'job', 'storageAccount', 'container'] as const).filter((k) => !flags[k]);
  if (missing.length > 0)
    throw new DriveseedError('USAGE', `--offline needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  assertJobName(flags.job!);
  return {
    staging: resolve(flags.staging!),
    jobName: flags.job!,
    storageAccount: flags.storageAccount!,
    container: flags.container!,
    ...(flags.healLimit ? { healLimit: parseSize(flags.healLimit) } : {}),
  };
}
