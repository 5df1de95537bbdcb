import { Command } from 'commander';
import { join } from 'node:path';
import { DriveseedError } from '../core/errors.js';
import type { Id } from '../core/repo/ids.js';
import type { Repository } from '../core/repo/repository.js';
import { findSnapshot } from '../core/repo/snapshot.js';
import { decodeTree, type TreeNode } from '../core/repo/tree.js';
import { addRepoOptions, loadIndexWithWarnings, openRepository, printJson, type RepoFlags } from './common.js';

export function lsCommand(): Command {
  return addRepoOptions(new Command('ls').description('list the files of a snapshot'))
    .argument('<snapshot>', 'snapshot id (or a unique prefix), or "latest"')
    .argument('[path]', 'list only below this path', '/')
    .option('--json', 'print one JSON array of entries')
    .action(async (ref: string, path: string, flags: RepoFlags & { json?: boolean }) => {
      const repo = await openRepository(flags);
      await loadIndexWithWarnings(repo);
      const snapshot = findSnapshot(await repo.listSnapshots(), ref);
      const entries: { path: string; node: TreeNode }[] = [];
      const start = await descend(repo, snapshot.tree, path);
      await walk(repo, start.tree, start.path, (p, node) => entries.push({ path: p, node }));
      if (flags.json) {
        printJson(entries.map(({ path: p, node }) => ({ path: p, type: node.type, size: node.size, mode: node.mode, mtimeNs: node.mtimeNs, linkTarget: node.linkTarget })));
      } else {
        for (const e of entries) console.log(e.node.type === 'dir' ? `${e.path}/` : e.path);
      }
    });
}

/** Finds the tree of `path` inside the snapshot. */
async function descend(repo: Repository, root: Id, path: string): Promise<{ tree: Id; path: string }> {
  let tree = root;
  let at = '/';
  for (const part of path.split('/').filter(Boolean)) {
    const node = decodeTree(await repo.loadBlob('tree', tree), `tree ${tree}`).nodes.find((n) => n.name === part);
    if (!node || node.type !== 'dir') throw new DriveseedError('NOT_FOUND', `${join(at, part)} is not a directory in this snapshot`);
    tree = node.subtree!;
    at = join(at, part);
  }
  return { tree, path: at };
}

async function walk(repo: Repository, tree: Id, path: string, visit: (path: string, node: TreeNode) => void): Promise<void> {
  for (const node of decodeTree(await repo.loadBlob('tree', tree), `tree ${tree}`).nodes) {
    const p = join(path, node.name);
    visit(p, node);
    if (node.type === 'dir') await walk(repo, node.subtree!, p, visit);
  }
}
