import { Command } from 'commander';
import { findInSnapshots } from '../core/backup/snapshot-find.js';
import { DriveseedError } from '../core/errors.js';
import { shortId } from '../core/repo/ids.js';
import { byTime, findSnapshot } from '../core/repo/snapshot.js';
import { readableSnapshots } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, collect, openRepository, warnDamagedFile, type RepoFlags } from './common.js';
import { counted } from './counted.js';
import { JsonArrayStream } from './json-stream.js';

interface FindFlags extends RepoFlags {
  snapshot?: string[];
  json?: boolean;
}

export default function findCommand(): Command {
  return addRepoOptions(
    new Command('find').description(
      "find files and directories in the snapshots by name or path: a pattern matches a path's last name (*.gz) or the whole path (/srv/**/*.log), as restore's --include does",
    ),
  )
    .argument('<pattern...>', 'glob patterns; an entry matching any of them is listed')
    .option('-s, --snapshot <id>', 'look only in this snapshot (an id, a unique prefix, or "latest"; repeatable); default: all, oldest first', collect)
    .option('--json', 'print one JSON array of matches, each with its snapshot')
    .action(async (patterns: string[], flags: FindFlags) => {
      if (patterns.some((p) => p === '')) throw new DriveseedError('USAGE', 'an empty pattern matches nothing', { hint: 'quote the pattern: find "*.gz"' });
      const repo = await openRepository(flags);
      for (const problem of await repo.loadIndex()) warnDamagedFile(problem);
      const all = (await readableSnapshots(repo, warnDamagedFile)).sort(byTime);
      const snapshots = flags.snapshot ? [...new Set(flags.snapshot.map((ref) => findSnapshot(all, ref)))] : all;
      const json = flags.json ? new JsonArrayStream() : undefined;
      json?.open();
      let current: string | undefined;
      let found = 0;
      for await (const { snapshot, path, node } of findInSnapshots(repo, snapshots, patterns)) {
        found++;
        if (json) {
          json.push({ snapshot: snapshot.id, time: snapshot.time, path, type: node.type, size: node.size, mode: node.mode, mtimeNs: node.mtimeNs });
          continue;
        }
        if (current !== snapshot.id) {
          current = snapshot.id;
          console.log(`${found > 1 ? '\n' : ''}found in snapshot ${shortId(snapshot.id)} of ${snapshot.time.replace('T', ' ').slice(0, 19)}:`);
        }
        console.log(`${path}${node.type === 'dir' ? '/' : ''}`);
      }
      json?.close();
      // Nothing found is an answer, not a failure (restic's rc 0), but it is said, never left silent.
      if (!json && found === 0) console.log(`nothing matches in ${counted(snapshots.length, 'snapshot')}`);
    });
}
