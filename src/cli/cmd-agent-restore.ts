import { Command } from 'commander';
import { openVaultRepository, type ServerChoice } from '../client/agent/restore.js';
import { warnDamagedFile } from './common.js';
import { restoreItem } from '../client/agent/restore-item.js';
import { DriveseedError } from '../core/errors.js';
import { agentPassword } from './agent-password.js';
import { formatBytes } from './progress.js';
import { addRestoreOptions, restoreWithProgress, skippedNote, type RestoreFlags } from './restore-progress.js';
import { addServerOptions, serverChoiceOf } from './server-options.js';
import { counted } from './counted.js';
import { parseRate } from '../core/util/units.js';

export default function agentRestoreCommand(): Command {
  return addServerOptions(
    addRestoreOptions(new Command('restore'), { targetRequired: false })
      .description('restore a recovery point from the vault, whole or by path, on this machine or a new one')
      .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
      .option('--item <name>', 'restore one command item (agent protect --item) instead of the paths')
      .option('--to-command <cmd>', "with --item: feed the item's output to CMD's stdin (run through the shell), e.g. 'psql sales_restored'")
      .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
      .option('--limit-download <rate>', 'download bandwidth limit, e.g. 5M (bytes per second), metered as the bytes arrive', parseRate),
  ).action(async (ref: string, flags: RestoreFlags & ServerChoice & { passwordFile?: string; item?: string; toCommand?: string; limitDownload?: number }) => {
    if (flags.toCommand !== undefined && flags.item === undefined) throw new DriveseedError('USAGE', '--to-command goes with --item');
    if (flags.item !== undefined && (flags.target === undefined) === (flags.toCommand === undefined))
      throw new DriveseedError('USAGE', '--item needs --target DIR or --to-command CMD (one of them)');
    if (flags.target === undefined && flags.item === undefined) throw new DriveseedError('USAGE', 'give --target DIR to restore into');
    const repo = await openVaultRepository(await agentPassword(flags), serverChoiceOf(flags), { limitDownload: flags.limitDownload });
    if (flags.item !== undefined) {
      const sink = flags.toCommand !== undefined ? { toCommand: flags.toCommand } : { target: flags.target! };
      const { snapshot, bytes } = await restoreItem(repo, ref, flags.item, sink, warnDamagedFile);
      console.log(`restored item ${flags.item} (${formatBytes(bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`);
      return;
    }
    const { snapshot, result } = await restoreWithProgress(repo, ref, flags, false);
    console.log(
      `${flags.dryRun ? 'would restore' : 'restored'} ${counted(result.files, 'file')} (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`,
    );
    const note = skippedNote(result.skipped, flags.overwrite, flags.dryRun === true);
    if (note) console.log(note);
    if (result.warnings.length > 0) process.exitCode = 1;
  });
}
