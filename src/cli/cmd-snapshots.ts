import { Command } from 'commander';
import { shortId } from '../core/repo/ids.js';
import { byTime, type StoredSnapshot } from '../core/repo/snapshot.js';
import { readableSnapshots } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, type RepoFlags } from './common.js';
import { counted } from './counted.js';
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
      printTable(snapshots);
    });
}

/** restic's columns, under a header and a rule, so a first-time reader knows what each one is. */
function printTable(snapshots: StoredSnapshot[]): void {
  const rows = snapshots.map((s) => [
    shortId(s.id),
    s.time.replace('T', ' ').slice(0, 19),
    s.hostname,
    s.summary ? formatBytes(s.summary.totalBytes) : '',
    s.paths.join(' ') + (s.tags.length ? ` [${s.tags.join(',')}]` : ''),
  ]);
  const header = ['ID', 'Time', 'Host', 'Size', 'Paths'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Sizes read best right-aligned, like numbers; the rest left-aligned; the last column is not padded.
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  if (rows.length > 0) {
    console.log(line(header));
    console.log('-'.repeat(widths.reduce((a, b) => a + b, 2 * (widths.length - 1))));
    for (const row of rows) console.log(line(row));
  }
  console.log(counted(snapshots.length, 'snapshot'));
}
