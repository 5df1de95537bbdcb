import { Command } from 'commander';
import { listRecoveryPoints, type ServerChoice } from '../client/agent/restore.js';
import { printJson } from './common.js';
import { formatBytes } from './progress.js';
import { addServerOptions, serverChoiceOf } from './server-options.js';

export default function agentRecoveryPointsCommand(): Command {
  return addServerOptions(
    new Command('recovery-points').description("list a server's recovery points in the vault, newest first").option('--json', 'print them as JSON'),
  ).action(async (flags: ServerChoice & { json?: boolean }) => {
    const { server, vault, recoveryPoints } = await listRecoveryPoints(serverChoiceOf(flags));
    if (flags.json) {
      printJson({ server: server.name, serverId: server.id, vault, recoveryPoints });
      return;
    }
    console.log(`server ${server.name} in vault ${vault}: ${recoveryPoints.length} recovery points`);
    for (const p of recoveryPoints)
      console.log(`${p.id.slice(0, 8)}  ${p.time}  ${p.files} files  ${formatBytes(p.totalBytes)}${p.expiresAt ? `  expires about ${p.expiresAt}` : ''}`);
    if (recoveryPoints.length > 0)
      console.log(`restore one with \`driveseed agent restore ID|latest --target DIR\`${flags.server ? ` --server ${server.name}` : ''}`);
  });
}
