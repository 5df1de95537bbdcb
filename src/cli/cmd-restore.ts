import { Command } from 'commander';
import { resolve } from 'node:path';
import { restore } from '../core/backup/restorer.js';
import { shortId } from '../core/repo/ids.js';
import { findSnapshot } from '../core/repo/snapshot.js';
import { addRepoOptions, loadIndexWithWarnings, collect, openRepository, printJson, type RepoFlags } from './common.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';

export function restoreCommand(): Command {
  return addRepoOptions(new Command('restore').description('restore a snapshot under a target directory, at full original paths'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .requiredOption('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <glob>', 'restore only paths matching GLOB (repeatable)', collect)
    .option('--verify', "also recompute every data blob's id from its restored content (slower; decryption is authenticated either way)")
    .option('--json', 'print a JSON summary')
    .action(async (ref: string, flags: RepoFlags & { target: string; include?: string[]; verify?: boolean; json?: boolean }) => {
      const started = Date.now();
      const repo = await openRepository(flags);
      await loadIndexWithWarnings(repo);
      const snapshot = findSnapshot(await repo.listSnapshots(), ref);
      const total = snapshot.summary?.totalBytes;
      const progress = new ProgressLine();
      const result = await restore(repo, snapshot, {
        target: resolve(flags.target),
        includes: flags.include,
        verify: flags.verify,
        onProgress: (p) => progress.update((t) => renderTransfer(t, p.files, p.bytes, flags.include ? undefined : total)),
        onWarning: (path, message) => process.stderr.write(`warning: ${path}: ${message}\n`),
      });
      progress.done();
      const durationMs = Date.now() - started;
      if (flags.json) printJson({ snapshotId: snapshot.id, ...result, durationMs });
      else console.log(`restored ${result.files} files, ${result.dirs} directories, ${result.symlinks} symlinks (${formatBytes(result.bytes)}) from ${shortId(snapshot.id)} in ${(durationMs / 1000).toFixed(1)} s`);
      if (result.warnings.length > 0) process.exitCode = 1;
    });
}
