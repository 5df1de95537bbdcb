import { Command } from 'commander';
import { openVaultRepository, type ServerChoice } from '../client/agent/restore.js';
import { collect } from './common.js';
import { agentPassword } from './agent-password.js';
import { formatBytes } from './progress.js';
import { restoreWithProgress, type RestoreFlags } from './restore-progress.js';
import { addServerOptions, serverChoiceOf } from './server-options.js';
import { counted } from './counted.js';

export default function agentRestoreCommand(): Command {
  return addServerOptions(
    new Command('restore')
      .description('restore a recovery point from the vault, whole or by path, on this machine or a new one')
      .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
      .requiredOption('-t, --target <dir>', 'directory to restore into')
      .option('-i, --include <glob>', 'restore only matching paths (repeatable)', collect)
      .option('--verify', "also recompute every data blob's id from its restored content (slower; decryption is authenticated either way)")
      .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)'),
  ).action(async (ref: string, flags: RestoreFlags & ServerChoice & { passwordFile?: string }) => {
    const repo = await openVaultRepository(await agentPassword(flags), serverChoiceOf(flags));
    const { snapshot, result } = await restoreWithProgress(repo, ref, flags, false);
    console.log(`restored ${counted(result.files, 'file')} (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`);
    if (result.warnings.length > 0) process.exitCode = 1;
  });
}
