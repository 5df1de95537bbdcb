import { Command } from 'commander';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, openRepository, printJson, type RepoFlags } from './common.js';
import { formatBytes } from './progress.js';
import { addRestoreOptions, restoreWithProgress, skippedNote, type RestoreFlags } from './restore-progress.js';
import { counted } from './counted.js';

export default function restoreCommand(): Command {
  return addRestoreOptions(
    addRepoOptions(new Command('restore').description('restore a snapshot under a target directory, at full original paths')).argument(
      '<snapshot>',
      'snapshot id (or a unique prefix), or "latest"',
    ),
  )
    .option('--json', 'print a JSON summary')
    .action(async (ref: string, flags: RepoFlags & RestoreFlags & { json?: boolean }) => {
      const started = Date.now();
      const { snapshot, result } = await restoreWithProgress(await openRepository(flags), ref, flags);
      const durationMs = Date.now() - started;
      if (flags.json) printJson({ snapshotId: snapshot.id, ...result, dryRun: flags.dryRun === true, overwrite: flags.overwrite, durationMs });
      else {
        console.log(
          `${flags.dryRun ? 'would restore' : 'restored'} ${counted(result.files, 'file')}, ${counted(result.dirs, 'directory', 'directories')}, ${counted(result.symlinks, 'symlink')} (${formatBytes(result.bytes)}) from ${shortId(snapshot.id)}${flags.dryRun ? '' : ` in ${(durationMs / 1000).toFixed(1)} s`}`,
        );
        const note = skippedNote(result.skipped, flags.overwrite, flags.dryRun === true);
        if (note) console.log(note);
      }
      if (result.warnings.length > 0) process.exitCode = 1;
    });
}
