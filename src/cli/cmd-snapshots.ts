import { Command } from 'commander';
import { shortId } from '../core/repo/ids.js';
import { byTime } from '../core/repo/snapshot.js';
import { readableSnapshots } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, type RepoFlags } from './common.js';
import { formatBytes } from './progress.js';

export default function snapshotsCommand(): Command {
  return addRepoOptions(new Command('snapshots').description('list snapshots'))
    .option('--json', 'print as JSON')
    .action(async (flags: RepoFlags & { json?: boolean }) => {
      const repo = await openRepository(flags);
      const snapshots = (await readableSnapshots(repo, warnDamagedFile)).sort(byTime);
      if (flags.json) {
        printJson(snapshots.map((s) => ({ ...s, shortId: shortId(s.id) })));
        return;
      }
      for (const s of snapshots) {
        const size = s.summary ? formatBytes(s.summary.totalBytes) : '';
        const tags = s.tags.length ? ` [${s.tags.join(',')}]` : '';
        console.log(`${shortId(s.id)}  ${s.time.replace('T', ' ').slice(0, 19)}  ${s.hostname}  ${size.padStart(10)}  ${s.paths.join(' ')}${tags}`);
      }
      console.log(`${snapshots.length} snapshots`);
    });
}
