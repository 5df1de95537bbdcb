import { Command } from 'commander';
import { openVaultRepository, type ServerChoice } from '../client/agent/restore.js';
import { agentPassword } from './agent-password.js';
import { formatBytes } from './progress.js';
import { addRestoreOptions, restoreWithProgress, skippedNote, type RestoreFlags } from './restore-progress.js';
import { addServerOptions, serverChoiceOf } from './server-options.js';
import { counted } from './counted.js';

export default function agentRestoreCommand(): Command {
  return addServerOptions(
    addRestoreOptions(new Command('restore'))
      .description('restore a recovery point from the vault, whole or by path, on this machine or a new one')
      .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
      .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)'),
  ).action(async (ref: string, flags: RestoreFlags & ServerChoice & { passwordFile?: string }) => {
    const repo = await openVaultRepository(await agentPassword(flags), serverChoiceOf(flags));
    const { snapshot, result } = await restoreWithProgress(repo, ref, flags, false);
    console.log(
      `${flags.dryRun ? 'would restore' : 'restored'} ${counted(result.files, 'file')} (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`,
    );
    const note = skippedNote(result.skipped, flags.overwrite, flags.dryRun === true);
    if (note) console.log(note);
    if (result.warnings.length > 0) process.exitCode = 1;
  });
}
