import { Command } from 'commander';
import { backupNow } from '../client/agent/backup-now.js';
import { agentPassword } from './agent-password.js';
import { printBackupOutcome } from './backup-job-output.js';
import { printJson } from './common.js';
import { EXIT_PARTIAL } from './exit-codes.js';
import { ProgressLine, renderTransfer } from './progress.js';
import { parseRate } from '../core/util/units.js';

export default function agentBackupNowCommand(): Command {
  return new Command('backup-now')
    .description('back up the protected paths into the vault now')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .option('--limit-upload <rate>', "this run's upload limit instead of the policy's, e.g. 2M (bytes per second)", parseRate)
    .option('--json', 'print the job as JSON')
    .action(async (flags: { passwordFile?: string; json?: boolean; limitUpload?: number }) => {
      const progress = new ProgressLine();
      const result = await backupNow(await agentPassword(flags), (p) => progress.update((t) => renderTransfer(t, p.files, p.bytes)), {
        limitUpload: flags.limitUpload,
      });
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
        for (const [kind, hook] of Object.entries(result.hooks ?? {}))
          console.log(`${kind} hook ${JSON.stringify(hook.command)}: exit ${hook.exitCode ?? hook.signal} in ${(hook.durationMs / 1000).toFixed(1)} s`);
      }
      if (result.warnings.length > 0) process.exitCode = EXIT_PARTIAL;
    });
}
