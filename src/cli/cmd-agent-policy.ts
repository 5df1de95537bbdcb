import { Command } from 'commander';
import { loadAgentConfig } from '../client/agent/agent-config.js';
import { DriveseedError } from '../core/errors.js';
import { printJson } from './common.js';
import { printPolicy } from './policy-output.js';

export default function agentPolicyCommand(): Command {
  return new Command('policy')
    .description('print the whole protection policy: paths, excludes, schedule, upload limit, offline seeding')
    .option('--json', 'print the policy as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { policy } = await loadAgentConfig();
      if (!policy) throw new DriveseedError('NOT_FOUND', 'this agent protects nothing yet', { hint: 'run `driveseed agent protect PATH…`' });
      if (flags.json) printJson(policy);
      else printPolicy(policy);
    });
}
