import { Command } from 'commander';
import { backup, dryRunBackup, findParent, type BackupOptions } from '../core/backup/archiver.js';
import { commandSource } from '../core/backup/command-source.js';
import { describeHook, hookFailed, withHooks, type HookResult } from '../core/backup/hooks.js';
import { backupStream, type StreamSource } from '../core/backup/stream-archiver.js';
import { DriveseedError } from '../core/errors.js';
import { shortId } from '../core/repo/ids.js';
import { addRepoOptions, collect, openRepository, printJson, warnDamagedFile, wholeNumber, withLock, type RepoFlags } from './common.js';
import { EXIT_PARTIAL } from './exit-codes.js';
import { readExcludeFile } from './exclude-file.js';
import { trimRepositoryCache } from '../client/common/repository-cache.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';
import { BackupStatusReporter, liveBackupStatus, type LiveBackupStatus } from './backup-status.js';
import { scanTotals } from '../core/backup/scanner.js';

interface BackupFlags extends RepoFlags {
  exclude?: string[];
  tag?: string[];
  json?: boolean;
  force?: boolean;
  threads?: number;
  stdin?: boolean;
  stdinFilename: string;
  stdinFromCommand?: boolean;
  preHook?: string;
  postHook?: string;
  excludeFile?: string[];
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
}

export default function backupCommand(): Command {
  return addRepoOptions(new Command('backup').description("back up files and directories (or a stream: stdin, a command's output) into a new snapshot"))
    .argument('[path...]', 'files or directories to back up; with --stdin-from-command, the command and its arguments after --')
    .option('-e, --exclude <glob>', 'leave out paths or names matching GLOB (repeatable)', collect)
    .option('--exclude-file <file>', 'leave out the patterns in FILE, one a line (# comments; repeatable)', collect)
    .option('-x, --one-file-system', 'stay on the file systems of the paths given (a mount point below is kept, empty)')
    .option('--exclude-caches', 'leave out the contents of directories tagged with a CACHEDIR.TAG (bford.info/cachedir)')
    .option('--tag <tag>', 'add a tag to the snapshot (repeatable)', collect)
    .option('--force', 'read every file, even unchanged ones')
    .option('--threads <n>', 'worker threads (default: one per core)', wholeNumber)
    .option('--stdin', 'back up what arrives on stdin, as one file')
    .option('--stdin-filename <name>', 'the path the stream is stored under in the snapshot', 'stdin')
    .option('--stdin-from-command', 'back up the output of the command after --; it must exit 0 for a snapshot')
    .option('--pre-hook <cmd>', 'run CMD (through the shell) first; if it fails there is no backup')
    .option('--post-hook <cmd>', 'run CMD (through the shell) after the backup, whether it succeeded or not')
    .option('-n, --dry-run', 'read and chunk everything, store nothing: say what would be new (no pack, index or snapshot is written; hooks do not run)')
    .option('-v, --verbose', 'with --dry-run: name each file that would be stored, new (+) or changed (M)')
    .option('--json', 'print a JSON summary')
    .action(async (paths: string[], flags: BackupFlags) => {
      const stream = streamOf(paths, flags);
      // Read before the repository is opened: a wrong path is a usage error that costs nothing.
      const excludes = [...(flags.exclude ?? []), ...(flags.excludeFile ?? []).flatMap(readExcludeFile)];
      if (flags.dryRun) {
        if (stream) throw new DriveseedError('USAGE', '--dry-run backs up paths, not a stream', { hint: 'leave out --stdin / --stdin-from-command' });
        return dryRun(paths, excludes, flags);
      }
      if (flags.verbose) throw new DriveseedError('USAGE', '--verbose goes with --dry-run');
      const repo = await openRepository(flags);
      const progress = new ProgressLine();
      const status = stream ? undefined : startStatus(paths, excludes, flags);
      const hooked = await withHooks(
        { pre: flags.preHook, post: flags.postHook, onOutput: (chunk) => process.stderr.write(chunk) },
        () => {
          // Index and parent are read while the lock is taken, not after: on a remote
          // repository each is a round trip (the agent does the same). A failure to lock is
          // the error to report, so this one is only awaited under the lock.
          const ready = Promise.all([repo.loadIndex(), stream || flags.force ? null : findParent(repo, paths, warnDamagedFile)]);
          ready.catch(() => undefined);
          return withLock(repo, false, 'backup', async () => {
            const [problems, parent] = await ready;
            for (const problem of problems) warnDamagedFile(problem);
            if (stream) {
              return backupStream(repo, stream(), {
                filename: flags.stdinFilename,
                tags: flags.tag,
                onProgress: (bytes) => progress.update((t) => renderTransfer(t, 1, bytes)),
              });
            }
            return backup(repo, { ...walkOptions(paths, excludes, flags, status!), parent });
          });
        },
        (pre) => new DriveseedError('IO', `${describeHook('pre', pre)}; no backup was made`),
      );
      progress.done();
      const result = hooked.result;
      if (!stream) status!.finish({ files: result.summary.totalFiles, bytes: result.summary.totalBytes, errors: result.warnings.length });
      await trimRepositoryCache(repo, result.summary.totalBytes);
      const s = result.summary;
      const hooks = hooksReport(hooked.pre, hooked.post);
      if (flags.json) {
        printJson({ snapshotId: result.snapshotId, ...s, warnings: result.warnings, ...(hooks ? { hooks } : {}) });
      } else if (stream) {
        console.log(`stored ${result.snapshot.paths[0]}: read ${formatBytes(s.bytesRead)}, added ${formatBytes(s.bytesAdded)} to the repository`);
        console.log(`snapshot ${shortId(result.snapshotId)} saved in ${(s.durationMs / 1000).toFixed(1)} s`);
      } else {
        console.log(`files: ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnchanged} unchanged; ${s.dirs} directories`);
        console.log(`read ${formatBytes(s.bytesRead)} of ${formatBytes(s.totalBytes)}, added ${formatBytes(s.bytesAdded)} to the repository`);
        console.log(`snapshot ${shortId(result.snapshotId)} saved in ${(s.durationMs / 1000).toFixed(1)} s`);
        if (result.warnings.length > 0)
          console.log(`${result.warnings.length} files could not be read or changed while read (listed above); what was read is saved`);
      }
      if (hookFailed(hooked.post)) process.stderr.write(`warning: ${describeHook('post', hooked.post!)}; the snapshot is saved\n`);
      if (result.warnings.length > 0 || hookFailed(hooked.post)) process.exitCode = EXIT_PARTIAL;
    });
}

/** What a backup of paths walks, and how it reports, alike for a real run and a dry one. */
function walkOptions(paths: string[], excludes: string[], flags: BackupFlags, status: LiveBackupStatus): BackupOptions {
  return {
    paths,
    excludes,
    oneFileSystem: flags.oneFileSystem,
    excludeCaches: flags.excludeCaches,
    tags: flags.tag,
    parent: flags.force ? null : undefined,
    threads: flags.threads,
    onDamagedFile: warnDamagedFile,
    onProgress: (p) => status.onProgress(p),
    onWarning: (path, message) => {
      status.clear();
      if (!flags.json) process.stderr.write(`warning: ${path}: ${message}\n`);
    },
  };
}

/** restic's status: the walk's counts beside a scanner's totals (a second, lighter walk by the same excludes). */
function startStatus(paths: string[], excludes: string[], flags: BackupFlags): LiveBackupStatus {
  return liveBackupStatus(new BackupStatusReporter(flags.json === true), (onUpdate) => scanTotals(paths, excludes, onUpdate));
}

/**
 * `backup --dry-run`: under a shared lock (a prune must not remove packs the dedup counts on),
 * released afterwards, so the repository ends as it began. Hooks do not run: they exist to
 * change the machine (dump a database, take a file system snapshot), which a dry run must not.
 */
async function dryRun(paths: string[], excludes: string[], flags: BackupFlags): Promise<void> {
  const repo = await openRepository(flags);
  const status = startStatus(paths, excludes, flags);
  const options = walkOptions(paths, excludes, flags, status);
  const onFileRead =
    flags.verbose && !flags.json
      ? (path: string, change: 'new' | 'changed', size: number) => {
          status.clear();
          console.log(`${change === 'new' ? '+' : 'M'} ${path} (${formatBytes(size)})`);
        }
      : undefined;
  const result = await withLock(repo, false, 'backup --dry-run', () => dryRunBackup(repo, { ...options, onFileRead }));
  status.finish({ files: result.summary.totalFiles, bytes: result.summary.totalBytes, errors: result.warnings.length });
  const s = result.summary;
  if (flags.json) {
    printJson({ dryRun: true, ...s, ...(result.parent ? { parent: result.parent } : {}), warnings: result.warnings });
  } else {
    console.log(`would store: ${s.filesNew} new, ${s.filesChanged} changed files; ${s.filesUnchanged} unchanged; ${s.dirs} directories`);
    console.log(`would read ${formatBytes(s.bytesRead)} of ${formatBytes(s.totalBytes)} and add ${formatBytes(s.bytesAdded)} to the repository`);
    console.log('dry run: nothing was stored, no snapshot saved');
    if (result.warnings.length > 0) console.log(`${result.warnings.length} files could not be read (listed above)`);
  }
  if (result.warnings.length > 0) process.exitCode = EXIT_PARTIAL;
}

/** The stream a --stdin or --stdin-from-command backup reads, made once the lock is held; undefined for a backup of paths. */
function streamOf(args: string[], flags: BackupFlags): (() => StreamSource) | undefined {
  if (flags.stdin && flags.stdinFromCommand) throw new DriveseedError('USAGE', '--stdin and --stdin-from-command exclude each other');
  if (flags.stdinFromCommand) {
    if (args.length === 0)
      throw new DriveseedError('USAGE', '--stdin-from-command needs a command', { hint: 'put it after --: --stdin-from-command -- pg_dump sales' });
    return () => commandSource(args, (chunk) => process.stderr.write(chunk));
  }
  if (flags.stdin) {
    if (args.length > 0)
      throw new DriveseedError('USAGE', '--stdin backs up stdin only; leave out the paths', { hint: 'or back up the paths in a backup of their own' });
    if (process.stdin.isTTY)
      throw new DriveseedError('USAGE', '--stdin reads a pipe, and stdin is a terminal', {
        hint: 'pipe the data in: pg_dump sales | driveseed backup --stdin …',
      });
    return () => ({ data: process.stdin, what: 'stdin' });
  }
  if (args.length === 0) throw new DriveseedError('USAGE', 'name at least one path to back up', { hint: 'or --stdin / --stdin-from-command for a stream' });
  return undefined;
}

function hooksReport(pre: HookResult | undefined, post: HookResult | undefined): { pre?: HookResult; post?: HookResult } | undefined {
  if (!pre && !post) return undefined;
  return { ...(pre ? { pre } : {}), ...(post ? { post } : {}) };
}
