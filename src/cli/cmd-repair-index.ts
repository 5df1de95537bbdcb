import { Command } from 'commander';
import { repairIndex } from '../core/repo/repair.js';
import { addRepoOptions, openRepository, printJson, problemMessage, withLock, type RepoFlags } from './common.js';

export default function repairIndexCommand(): Command {
  return addRepoOptions(
    new Command('index').description(
      'rebuild the index past damaged index files: packs no intact index file names are indexed from their headers, then the damaged files are removed; try --dry-run first',
    ),
  )
    .option('--dry-run', 'only say what would be done')
    .option('--json', 'print the result as JSON')
    .action(async (flags: RepoFlags & { dryRun?: boolean; json?: boolean }) => {
      const repo = await openRepository(flags);
      const result = await withLock(repo, true, 'repair index', () => repairIndex(repo, { dryRun: !!flags.dryRun }));
      if (flags.json) {
        printJson(result);
        return;
      }
      const would = flags.dryRun ? 'would be ' : '';
      for (const p of result.damaged) console.log(`${flags.dryRun ? 'would remove' : 'removed'} ${p.file}: ${problemMessage(p)}`);
      for (const p of result.unread) console.log(`left alone ${p.file}: ${problemMessage(p)} (not damaged, only not read)`);
      console.log(
        `${result.packsIndexed} packs ${would}indexed from their headers into a new index file, ${result.damaged.length} damaged index files ${would}removed`,
      );
      if (result.unread.length > 0) process.exitCode = 1;
    });
}
