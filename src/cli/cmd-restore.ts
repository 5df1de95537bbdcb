import { Command } from 'commander';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, collect, openRepository, printJson, type RepoFlags } from './common.js';
import { formatBytes } from './progress.js';
import { restoreWithProgress, type RestoreFlags } from './restore-progress.js';
import { counted } from './counted.js';

export default function restoreCommand(): Command {
  return addRepoOptions(new Command('restore').description('restore a snapshot under a target directory, at full original paths'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .requiredOption('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <glob>', 'restore only paths matching GLOB (repeatable)', collect)
    .option('--verify', "also recompute every data blob's id from its restored content (slower; decryption is authenticated either way)")
    .option('--json', 'print a JSON summary')
    .action(async (ref: string, flags: RepoFlags & RestoreFlags & { json?: boolean }) => {
      const started = Date.now();
      const { snapshot, result } = await restoreWithProgress(await openRepository(flags), ref, flags);
      const durationMs = Date.now() - started;
      if (flags.json) printJson({ snapshotId: snapshot.id, ...result, durationMs });
      else
        console.log(
          `restored ${counted(result.files, 'file')}, ${counted(result.dirs, 'directory', 'directories')}, ${counted(result.symlinks, 'symlink')} (${formatBytes(result.bytes)}) from ${shortId(snapshot.id)} in ${(durationMs / 1000).toFixed(1)} s`,
        );
      if (result.warnings.length > 0) process.exitCode = 1;
    });
}
