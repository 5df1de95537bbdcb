import { Command } from 'commander';
import { backup } from '../core/backup/archiver.js';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, collect, openRepository, printJson, warnDamagedFile, wholeNumber, withLock, type RepoFlags } from './common.js';
import { EXIT_PARTIAL } from './exit-codes.js';
import { readExcludeFile } from './exclude-file.js';
import { trimRepositoryCache } from '../client/common/repository-cache.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';

interface BackupFlags extends RepoFlags {
  exclude?: string[];
  tag?: string[];
  json?: boolean;
  force?: boolean;
  threads?: number;
  excludeFile?: string[];
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
}

export default function backupCommand(): Command {
  return addRepoOptions(new Command('backup').description('back up files and directories into a new snapshot'))
    .argument('<path...>', 'files or directories to back up')
    .option('-e, --exclude <glob>', 'leave out paths or names matching GLOB (repeatable)', collect)
    .option('--exclude-file <file>', 'leave out the patterns in FILE, one a line (# comments; repeatable)', collect)
    .option('-x, --one-file-system', 'stay on the file systems of the paths given (a mount point below is kept, empty)')
    .option('--exclude-caches', 'leave out the contents of directories tagged with a CACHEDIR.TAG (bford.info/cachedir)')
    .option('--tag <tag>', 'add a tag to the snapshot (repeatable)', collect)
    .option('--force', 'read every file, even unchanged ones')
    .option('--threads <n>', 'worker threads (default: one per core)', wholeNumber)
    .option('--json', 'print a JSON summary')
    .action(async (paths: string[], flags: BackupFlags) => {
      // Read before the repository is opened: a wrong path is a usage error that costs nothing.
      const excludes = [...(flags.exclude ?? []), ...(flags.excludeFile ?? []).flatMap(readExcludeFile)];
      const repo = await openRepository(flags);
      const progress = new ProgressLine();
      const result = await withLock(repo, false, 'backup', async () => {
        for (const problem of await repo.loadIndex()) warnDamagedFile(problem);
        return backup(repo, {
          paths,
          excludes,
          oneFileSystem: flags.oneFileSystem,
          excludeCaches: flags.excludeCaches,
          tags: flags.tag,
          parent: flags.force ? null : undefined,
          threads: flags.threads,
          onDamagedFile: warnDamagedFile,
          onProgress: (p) => progress.update((t) => renderTransfer(t, p.files, p.bytes) + (p.errors ? `  ${p.errors} errors` : '')),
          onWarning: (path, message) => {
            if (!flags.json) process.stderr.write(`warning: ${path}: ${message}\n`);
          },
        });
      });
      progress.done();
      await trimRepositoryCache(repo, result.summary.totalBytes);
      const s = result.summary;
      if (flags.json) {
        printJson({ snapshotId: result.snapshotId, ...s, warnings: result.warnings });
      } else {
        console.log(`files: ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnchanged} unchanged; ${s.dirs} directories`);
        console.log(`read ${formatBytes(s.bytesRead)} of ${formatBytes(s.totalBytes)}, added ${formatBytes(s.bytesAdded)} to the repository`);
        console.log(`snapshot ${shortId(result.snapshotId)} saved in ${(s.durationMs / 1000).toFixed(1)} s`);
        if (result.warnings.length > 0) console.log(`${result.warnings.length} files could not be read (listed above); the rest is saved`);
      }
      if (result.warnings.length > 0) process.exitCode = EXIT_PARTIAL;
    });
}
