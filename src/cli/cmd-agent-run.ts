import { Command } from 'commander';
import { startScheduledBackups } from '../client/agent/schedule.js';
import { agentPassword } from './agent-password.js';
import { describeJob } from './backup-job-output.js';
import { untilInterrupted } from './common.js';

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
      console.log(`scheduler running ("${scheduler.schedule}"); next backup at ${scheduler.nextRun?.toISOString()}`);
      await untilInterrupted();
      scheduler.stop();
    });
}
