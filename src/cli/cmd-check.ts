import { Command } from 'commander';
import { checkRepository } from '../core/repo/check.js';
import { addRepoOptions, openRepository, printJson, withLock, type RepoFlags } from './common.js';
import { formatBytes, ProgressLine } from './progress.js';

export default function checkCommand(): Command {
  return addRepoOptions(new Command('check').description('verify the repository structure (and with --read-data every blob)'))
    .option('--read-data', "read every pack and verify every blob's hash and MAC")
    .option('--json', 'print the report as JSON')
    .action(async (flags: RepoFlags & { readData?: boolean; json?: boolean }) => {
      const repo = await openRepository(flags);
      const progress = new ProgressLine();
      const report = await withLock(repo, false, 'check', () =>
        checkRepository(repo, {
          readData: flags.readData,
          onProgress: (done, total) => progress.update(() => `checked ${done} of ${total} packs`),
        }),
      );
      progress.done();
      if (flags.json) {
        printJson(report);
      } else {
        for (const p of report.problems) console.log(`error: ${p.file}${p.blob ? ` blob ${p.blob}` : ''}: ${p.message}`);
        console.log(
          `${report.snapshots} snapshots, ${report.packs} packs, ${report.blobs} blobs${flags.readData ? `, ${formatBytes(report.bytesRead)} read` : ''}`,
        );
        if (report.unreferencedPacks > 0)
          console.log(`${report.unreferencedPacks} packs are not in any index (left by an interrupted backup; the next backup or prune takes care of them)`);
        console.log(report.problems.length === 0 ? 'no errors were found' : `${report.problems.length} errors found`);
      }
      if (report.problems.length > 0) process.exitCode = 1;
    });
}
