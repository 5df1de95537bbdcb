import { Command } from 'commander';
import { startScheduledBackups } from '../client/agent/schedule.js';
import { agentPassword } from './agent-password.js';
import { describeJob } from './backup-job-output.js';
import { untilInterrupted } from './common.js';
import { describeHook, hookFailed, type HookResult } from '../core/backup/hooks.js';

function describeOwed(hook: HookResult): string {
  return hookFailed(hook) ? describeHook('post', hook) : `${JSON.stringify(hook.command)} exited 0`;
}

export default function agentRunCommand(): Command {
  return new Command('run')
    .description('run scheduled backups in the foreground until Ctrl-C')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .action(async (flags: { passwordFile?: string }) => {
      const scheduler = await startScheduledBackups(
        () => agentPassword(flags),
        (started, outcome) => {
          if ('result' in outcome) console.log(`${started} ${describeJob(outcome.result.job)}`);
          else console.error(`${started} backup failed: ${outcome.error.message}`);
        },
      );
      for (const hook of scheduler.owed) console.log(`ran the post hook owed by a run interrupted at ${hook.owedSince}: ${describeOwed(hook)}`);
      console.log(`scheduler running ("${scheduler.schedule}"); next backup at ${scheduler.nextRun?.toISOString()}`);
      await untilInterrupted();
      scheduler.stop();
    });
}
