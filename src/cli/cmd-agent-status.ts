import { Command } from 'commander';
import { agentStatus } from '../client/agent/status.js';
import { printJson } from './common.js';
import { printDeltaAdvice } from './delta-advice-output.js';

export default function agentStatusCommand(): Command {
  return new Command('status')
    .description('registration, protection policy, recent jobs and recovery points')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { status, registration, offline, delta, deltaAdvice } = await agentStatus();
      if (flags.json) {
        printJson({ ...status, ...(delta ? { delta } : {}), ...(deltaAdvice ? { deltaAdvice } : {}) });
        return;
      }
      console.log(`server ${status.server.name} in vault ${registration.vault} at ${registration.serviceUrl}`);
      console.log(`protected: ${status.server.paths.join(', ') || '(nothing yet)'}${status.server.schedule ? `; schedule ${status.server.schedule}` : ''}`);
      if (offline)
        console.log(
          `offline seeding: import job ${offline.jobName} into ${offline.storageAccount}/${offline.container}, ${offline.seeded ? 'seed completed' : `staging ${offline.staging}`}`,
        );
      if (delta)
        console.log(
          `offline delta: import job ${delta.jobName} into ${delta.storageAccount}/${delta.container}, staged in ${delta.staging}; backups wait for it`,
        );
      if (deltaAdvice) printDeltaAdvice(deltaAdvice, 'the upload limit');
      for (const job of status.jobs.slice(0, 10))
        console.log(
          `job ${job.id.slice(0, 8)} ${job.kind} ${job.state} ${job.startedAt}${job.error ? ` — ${job.error}` : ''}${job.message ? ` — ${job.message}` : ''}`,
        );
      console.log(`${status.recoveryPoints.length} recovery points${status.recoveryPoints[0] ? `, latest ${status.recoveryPoints[0].time}` : ''}`);
    });
}
