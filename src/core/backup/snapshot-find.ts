import { join } from 'node:path';
import type { Id } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import { loadTree } from '../repo/snapshot-blobs.js';
import type { StoredSnapshot } from '../repo/snapshot.js';
import type { TreeNode } from '../repo/tree.js';
import { matchesAny, mayMatchBelow } from './path-match.js';

export interface FoundEntry {
  snapshot: StoredSnapshot;
  path: string;
  node: TreeNode;
}

/**
 * `find`: the entries of each snapshot that a pattern matches, with restore's and backup's one
 * matching rule (path-match.ts: the whole path, or the last name), snapshot by snapshot in the
 * order given, each depth first in name order, as the walk goes. A directory no pattern can
 * match below (only path patterns, none leading there) is not read.
 */
export async function* findInSnapshots(
  repo: Pick<Repository, 'loadBlob'>,
  snapshots: readonly StoredSnapshot[],
  patterns: readonly string[],
): AsyncGenerator<FoundEntry> {
  for (const snapshot of snapshots) {
    for await (const { path, node } of matching(repo, snapshot.tree, '/', patterns)) yield { snapshot, path, node };
  }
}

async function* matching(
  repo: Pick<Repository, 'loadBlob'>,
  tree: Id,
  path: string,
  patterns: readonly string[],
): AsyncGenerator<{ path: string; node: TreeNode }> {
  for (const node of (await loadTree(repo, tree)).nodes) {
    const p = join(path, node.name);
    if (matchesAny(p, patterns)) yield { path: p, node };
    if (node.type === 'dir' && patterns.some((pattern) => mayMatchBelow(p, pattern))) yield* matching(repo, node.subtree!, p, patterns);
  }
}
