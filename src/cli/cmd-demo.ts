import { Command } from 'commander';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { backup } from '../backup/archiver.js';
import { compareTrees } from '../backup/compare-trees.js';
import { restore } from '../backup/restorer.js';
import { writeSampleTree } from '../backup/sample-tree.js';
import { DriveseedError } from '../errors.js';
import { checkRepository } from '../repo/check.js';
import { shortId } from '../repo/ids.js';
import { Repository } from '../repo/repository.js';
import { FsStore } from '../storage/fs/fs-store.js';
import { formatBytes } from './progress.js';

/**
 * The engine demo: init, back up a generated tree, edit it, back up again, restore, compare.
 * (The offline-seeding issue grows this into the whole seed workflow.)
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the workflow end to end on the embedded defaults and verify the restore byte for byte')
    .option('--workdir <dir>', 'where to put the data, repository and restore (default: a new temp dir)')
    .option('--data <dir>', 'back up this directory instead of a generated one')
    .option('--keep', 'keep the work dir afterwards')
    .action(async (flags: { workdir?: string; data?: string; keep?: boolean }) => {
      const work = flags.workdir ? resolve(flags.workdir) : await mkdtemp(join(tmpdir(), 'driveseed-demo-'));
      await mkdir(work, { recursive: true });
      const step = (n: number, text: string) => console.log(`[${n}/6] ${text}`);
      const password = 'driveseed demo password';
      try {
        const data = flags.data ? resolve(flags.data) : join(work, 'data');
        if (!flags.data) {
          const made = await writeSampleTree(data);
          step(1, `generated ${made.files} files (${formatBytes(made.bytes)}) in ${data}`);
        } else step(1, `backing up ${data}`);

        const repo = await Repository.init(new FsStore(join(work, 'repo')), password);
        step(2, `created repository ${shortId(repo.config.id)} in ${join(work, 'repo')}`);

        const first = await backup(repo, { paths: [data] });
        step(3, `first backup ${shortId(first.snapshotId)}: ${first.summary.filesNew} files, read ${formatBytes(first.summary.bytesRead)}, stored ${formatBytes(first.summary.bytesAdded)}`);

        if (!flags.data) await appendFile(join(data, 'dir1', 'sub1', 'file1.txt'), '\nan edit after the first backup\n');
        const second = await backup(repo, { paths: [data] });
        step(4, `second backup ${shortId(second.snapshotId)}: ${second.summary.filesChanged} changed, ${second.summary.filesUnchanged} unchanged, stored ${formatBytes(second.summary.bytesAdded)}`);

        const target = join(work, 'restore');
        await rm(target, { recursive: true, force: true });
        const latest = await repo.loadSnapshot(second.snapshotId);
        const restored = await restore(repo, latest, { target });
        const diffs = await compareTrees(data, join(target, data));
        if (diffs.length > 0) throw new DriveseedError('CORRUPT', `restore differs from the source: ${diffs.slice(0, 5).join('; ')}`);
        step(5, `restored ${restored.files} files (${formatBytes(restored.bytes)}) into ${target}: identical to the source`);

        const report = await checkRepository(await Repository.open(new FsStore(join(work, 'repo')), password), { readData: true });
        if (report.problems.length > 0) throw new DriveseedError('CORRUPT', `check found ${report.problems.length} problems`);
        step(6, `check --read-data: ${report.packs} packs, ${report.blobs} blobs, no errors`);
        console.log('demo finished: the restore matches byte for byte');
      } finally {
        if (!flags.keep && !flags.workdir) await rm(work, { recursive: true, force: true });
      }
    });
}
