import { Command } from 'commander';
import { backupNow } from '../client/agent/backup-now.js';
import { stageOfflineDelta } from '../client/agent/offline-delta.js';
import { DriveseedError } from '../core/errors.js';
import { agentPassword } from './agent-password.js';
import { printBackupOutcome } from './backup-job-output.js';
import { printJson } from './common.js';
import { EXIT_PARTIAL } from './exit-codes.js';
import { ProgressLine, renderTransfer } from './progress.js';
import type { HookResult } from '../core/backup/hooks.js';
import { parseRate } from '../core/util/units.js';

function describeHookRun(hook: HookResult): string {
  return `${JSON.stringify(hook.command)}: exit ${hook.exitCode ?? hook.signal} in ${(hook.durationMs / 1000).toFixed(1)} s`;
}

export default function agentBackupNowCommand(): Command {
  return new Command('backup-now')
    .description('back up the protected paths into the vault now')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .option('--offline-delta', 'a large change goes on drives: stage only what the vault lacks, as another import job into the same repository')
    .option('--job <name>', 'with --offline-delta: the import job of the delta')
    .option('-s, --staging <dir>', 'with --offline-delta: the staging location diskprep reads')
    .option('--storage-account <name>', "with --offline-delta: where the import lands (default: the seed's)")
    .option('--container <name>', "with --offline-delta: container in that account (default: the seed's)")
    .option('--limit-upload <rate>', "this run's upload limit instead of the policy's, e.g. 2M (bytes per second)", parseRate)
    .option('--json', 'print the job as JSON')
    .action(async (flags: BackupNowFlags) => {
      if (!flags.offlineDelta && (flags.job || flags.staging || flags.storageAccount || flags.container))
        throw new DriveseedError('USAGE', '--job, --staging, --storage-account and --container go with --offline-delta');
      const progress = new ProgressLine();
      const onProgress = (p: { files: number; bytes: number }) => progress.update((t) => renderTransfer(t, p.files, p.bytes));
      const password = await agentPassword(flags);
      const result = flags.offlineDelta
        ? await stageOfflineDelta(password, deltaOptions(flags), onProgress)
        : await backupNow(password, onProgress, { limitUpload: flags.limitUpload });
      progress.done();
      if (flags.json)
        printJson({
          ...result.job,
          warningsList: result.warnings,
          ...(result.seed ? { seed: { job: result.seed.job, copy: result.seed.copy, healed: result.seed.healed } } : {}),
          ...(result.retention ? { forgotten: result.retention.forgotten.map((p) => ({ id: p.id, time: p.time })) } : {}),
          traffic: result.traffic,
          ...(result.hooks ? { hooks: result.hooks } : {}),
        });
      else {
        printBackupOutcome(result);
        const { owed = [], ...hooks } = result.hooks ?? {};
        for (const hook of owed) console.log(`owed post hook of a run interrupted at ${hook.owedSince}: ${describeHookRun(hook)}`);
        for (const [kind, hook] of Object.entries(hooks)) console.log(`${kind} hook ${describeHookRun(hook)}`);
      }
      if (result.warnings.length > 0) process.exitCode = EXIT_PARTIAL;
    });
}

interface BackupNowFlags {
  passwordFile?: string;
  json?: boolean;
  offlineDelta?: boolean;
  job?: string;
  staging?: string;
  storageAccount?: string;
  container?: string;
  limitUpload?: number;
}

function deltaOptions(flags: BackupNowFlags) {
  if (!flags.job || !flags.staging) throw new DriveseedError('USAGE', '--offline-delta needs --job NAME and --staging DIR');
  return { jobName: flags.job, staging: flags.staging, storageAccount: flags.storageAccount, container: flags.container };
}
