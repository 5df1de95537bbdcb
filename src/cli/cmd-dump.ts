import { Command } from 'commander';
import { dumpFile } from '../core/backup/dump.js';
import { DriveseedError } from '../core/errors.js';
import { openSnapshot } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, openRepository, warnDamagedFile, withLock, type RepoFlags } from './common.js';

export default function dumpCommand(): Command {
  return addRepoOptions(new Command('dump').description('write one file of a snapshot to stdout (a stream backup restores through a pipe)'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .argument('<path>', "the file's path in the snapshot, e.g. /db.sql")
    .action(async (ref: string, path: string, flags: RepoFlags) => {
      if (process.stdout.isTTY)
        throw new DriveseedError('USAGE', 'dump writes the file to stdout, which is a terminal', { hint: 'redirect it: driveseed dump … > FILE, or pipe it' });
      const repo = await openRepository(flags);
      await withLock(repo, false, 'dump', async () => dumpFile(repo, await openSnapshot(repo, ref, warnDamagedFile), path, writeStdout));
    });
}

/** Resolves once stdout took the bytes (or drained): a slow reader (psql) holds the dump back. */
function writeStdout(bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = (): void => reject(new DriveseedError('IO', 'stdout was closed before the whole file was written'));
    if (process.stdout.destroyed || process.stdout.writableEnded) return closed();
    if (process.stdout.write(bytes)) return resolve();
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      process.stdout.off('drain', done);
      closed();
    };
    process.stdout.once('drain', done);
    process.stdout.once('close', onClose);
  });
}
