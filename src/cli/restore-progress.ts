import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_OVERWRITE, OVERWRITE_POLICIES, type OverwritePolicy } from '../core/backup/overwrite.js';
import { restoreSnapshot, type SnapshotRestore } from '../core/backup/restore-snapshot.js';
import type { Repository } from '../core/repo/repository.js';
import { collect, warnDamagedFile } from './common.js';
import { counted } from './counted.js';
import { ProgressLine, renderTransfer } from './progress.js';

export interface RestoreFlags {
  target: string;
  include?: string[];
  exclude?: string[];
  overwrite: OverwritePolicy;
  dryRun?: boolean;
  verify?: boolean;
}

/** The options of `restore` and `agent restore` alike: what to restore, over what, or only to say so. */
/** The restore options; `targetRequired: false` where another sink can stand in for --target (agent restore --item --to-command). */
export function addRestoreOptions(cmd: Command, { targetRequired = true } = {}): Command {
  const withTarget = targetRequired
    ? cmd.requiredOption('-t, --target <dir>', 'directory to restore into')
    : cmd.option('-t, --target <dir>', 'directory to restore into');
  return withTarget
    .option('-i, --include <pattern>', 'restore only paths matching PATTERN: a name (*.gz) at any depth, or a whole path (/srv/data/**) (repeatable)', collect)
    .option('-e, --exclude <pattern>', 'leave out paths matching PATTERN, by the same rule; wins over --include (repeatable)', collect)
    .addOption(
      new Option('--overwrite <when>', 'files already in the target: replace always, if-changed (type, size or mtime differ), if-newer, or never')
        .choices(OVERWRITE_POLICIES)
        .default(DEFAULT_OVERWRITE, `${DEFAULT_OVERWRITE}: a restore keeps local edits`),
    )
    .option('--dry-run', 'list what would be restored and what left as it is; write nothing')
    .option('--verify', "also recompute every data blob's id from its restored content (slower; decryption is authenticated either way)");
}

/** A dry run's one line per file; a restore's line for what it left, with the flag that replaces it. */
export function printPlanned(path: string, action: 'restore' | 'skip'): void {
  process.stdout.write(`${action === 'restore' ? 'would restore' : 'would leave  '}  ${path}\n`);
}

export function skippedNote(skipped: number, policy: OverwritePolicy, dryRun: boolean): string | undefined {
  if (skipped === 0) return undefined;
  const instead = policy === 'never' ? '--overwrite if-changed or always replaces them' : '--overwrite always replaces them';
  return `${counted(skipped, 'path')} already in the target ${dryRun ? 'would be' : 'were'} left as ${skipped === 1 ? 'it was' : 'they were'} (--overwrite ${policy}; ${instead})`;
}

/**
 * The restore of `restore` and `agent restore` alike: a progress line, and warnings on stderr
 * (naming the repair command only where the user can run it: `repairable`).
 */
export async function restoreWithProgress(repo: Repository, ref: string, flags: RestoreFlags, repairable = true): Promise<SnapshotRestore> {
  const progress = new ProgressLine();
  const restored = await restoreSnapshot(repo, ref, {
    target: resolve(flags.target),
    includes: flags.include,
    excludes: flags.exclude,
    overwrite: flags.overwrite,
    dryRun: flags.dryRun,
    onPlanned: flags.dryRun ? printPlanned : undefined,
    verify: flags.verify,
    onDamagedFile: (problem) => warnDamagedFile(problem, repairable),
    onProgress: (p, totalBytes) => progress.update((t) => renderTransfer(t, p.files, p.bytes, totalBytes)),
    onWarning: (path, message) => process.stderr.write(`warning: ${path}: ${message}\n`),
  });
  progress.done();
  return restored;
}
