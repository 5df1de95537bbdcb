import { Command } from 'commander';
import { shortId } from '../core/repo/ids.js';
import { countChange, diffBlobs, diffTrees, emptyDiffCounts, type DiffBlobs, type DiffCounts } from '../core/repo/snapshot-diff.js';
import { findSnapshot } from '../core/repo/snapshot.js';
import { readableSnapshots } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, openRepository, warnDamagedFile, type RepoFlags } from './common.js';
import { JsonArrayStream } from './json-stream.js';
import { formatBytes } from './progress.js';

interface DiffFlags extends RepoFlags {
  json?: boolean;
  metadata?: boolean;
}

export default function diffCommand(): Command {
  return addRepoOptions(
    new Command('diff').description(
      'what changed from one snapshot to another: + added, - removed, M content changed, T type changed (U metadata, with --metadata), and a summary',
    ),
  )
    .argument('<first>', 'the earlier snapshot: an id (or a unique prefix), or "latest"')
    .argument('<second>', 'the later snapshot')
    .option('--metadata', 'also list entries whose metadata alone changed (mode, owner, modification time), as U')
    .option('--json', 'print one JSON document: {"changes": [...], "summary": {...}}')
    .action(async (firstRef: string, secondRef: string, flags: DiffFlags) => {
      const repo = await openRepository(flags);
      for (const problem of await repo.loadIndex()) warnDamagedFile(problem);
      const snapshots = await readableSnapshots(repo, warnDamagedFile);
      const [first, second] = [findSnapshot(snapshots, firstRef), findSnapshot(snapshots, secondRef)];
      const counts = emptyDiffCounts();
      const json = flags.json ? new JsonArrayStream() : undefined;
      if (json) json.open(`{\n  "first": ${JSON.stringify(first.id)},\n  "second": ${JSON.stringify(second.id)},\n  "changes": [`);
      else console.log(`comparing snapshot ${shortId(first.id)} to ${shortId(second.id)}:\n`);
      // Listed as the walk finds them; the summary's blob counts need both snapshots whole, so they come last.
      for await (const entry of diffTrees(repo, first.tree, second.tree, { metadata: flags.metadata })) {
        countChange(counts, entry);
        if (json) json.push({ path: entry.path, modifier: entry.change, type: entry.node.type });
        else console.log(`${entry.change}    ${entry.path}${entry.node.type === 'dir' ? '/' : ''}`);
      }
      const blobs = await diffBlobs(repo, first.tree, second.tree);
      if (json) json.close(`  ],\n  "summary": ${JSON.stringify({ ...counts, ...blobs })}\n}\n`);
      else printSummary(counts, blobs);
    });
}

/** restic's summary, in its words and order. */
function printSummary(c: DiffCounts, b: DiffBlobs): void {
  const n = (v: number) => String(v).padStart(5);
  console.log('');
  console.log(`Files:       ${n(c.files.new)} new, ${n(c.files.removed)} removed, ${n(c.files.changed)} changed`);
  console.log(`Dirs:        ${n(c.dirs.new)} new, ${n(c.dirs.removed)} removed`);
  console.log(`Others:      ${n(c.others.new)} new, ${n(c.others.removed)} removed`);
  console.log(`Data Blobs:  ${n(b.dataBlobs.new)} new, ${n(b.dataBlobs.removed)} removed`);
  console.log(`Tree Blobs:  ${n(b.treeBlobs.new)} new, ${n(b.treeBlobs.removed)} removed`);
  console.log(`  Added:   ${formatBytes(b.bytesAdded)}`);
  console.log(`  Removed: ${formatBytes(b.bytesRemoved)}`);
}
