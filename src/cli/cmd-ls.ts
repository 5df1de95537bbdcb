import { Command } from 'commander';
import { listSnapshotFiles, openSnapshot } from '../core/repo/snapshot-reader.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, type RepoFlags } from './common.js';

export default function lsCommand(): Command {
  return addRepoOptions(new Command('ls').description('list the files of a snapshot'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .argument('[path]', 'list only below this path', '/')
    .option('--json', 'print one JSON array of entries')
    .action(async (ref: string, path: string, flags: RepoFlags & { json?: boolean }) => {
      const repo = await openRepository(flags);
      const entries = await listSnapshotFiles(repo, await openSnapshot(repo, ref, warnDamagedFile), path);
      if (flags.json) {
        printJson(
          entries.map(({ path: p, node }) => ({
            path: p,
            type: node.type,
            size: node.size,
            mode: node.mode,
            mtimeNs: node.mtimeNs,
            linkTarget: node.linkTarget,
          })),
        );
      } else {
        for (const e of entries) console.log(e.node.type === 'dir' ? `${e.path}/` : e.path);
      }
    });
}
