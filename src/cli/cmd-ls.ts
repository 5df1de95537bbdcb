import { Command } from 'commander';
import { openSnapshot, snapshotFiles } from '../core/repo/snapshot-reader.js';
import { JsonArrayStream } from './json-stream.js';
import { addRepoOptions, openRepository, warnDamagedFile, type RepoFlags } from './common.js';

export default function lsCommand(): Command {
  return addRepoOptions(new Command('ls').description('list the files of a snapshot'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .argument('[path]', 'list only below this path', '/')
    .option('--json', 'print one JSON array of entries')
    .action(async (ref: string, path: string, flags: RepoFlags & { json?: boolean }) => {
      const repo = await openRepository(flags);
      const entries = await snapshotFiles(repo, await openSnapshot(repo, ref, warnDamagedFile), path);
      // Printed as the walk goes, also as JSON (one array, an entry a line): nothing is held.
      const json = flags.json ? new JsonArrayStream() : undefined;
      json?.open();
      for await (const { path: p, node } of entries) {
        if (!json) console.log(node.type === 'dir' ? `${p}/` : p);
        else {
          const { size, mode, mtimeNs, linkTarget, changedWhileRead } = node;
          json.push({ path: p, type: node.type, size, mode, mtimeNs, linkTarget, ...(changedWhileRead ? { changedWhileRead: true } : {}) });
        }
      }
      json?.close();
    });
}
