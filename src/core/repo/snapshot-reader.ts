import { join } from 'node:path';
import { DriveseedError } from '../errors.js';
import type { Id } from './ids.js';
import type { FileProblem } from './index-loader.js';
import type { Repository } from './repository.js';
import { findSnapshot, type StoredSnapshot } from './snapshot.js';
import { decodeTree, type TreeNode } from './tree.js';

export interface SnapshotEntry {
  path: string;
  node: TreeNode;
}

/**
 * The snapshot `ref` names (an id, a unique prefix of one, or "latest"), with the index
 * loaded to read it. A damaged file does not stop a reader: the packs a damaged index file
 * described are indexed from their own headers, a damaged snapshot is passed over, and
 * `onDamagedFile` hears of each such file.
 */
export async function openSnapshot(repo: Repository, ref: string, onDamagedFile: (problem: FileProblem) => void): Promise<StoredSnapshot> {
  for (const problem of await repo.loadIndex()) onDamagedFile(problem);
  return findSnapshot(await readableSnapshots(repo, onDamagedFile), ref);
}

/** Every snapshot that loads; each one that does not is reported and passed over. */
export function readableSnapshots(repo: Repository, onDamagedFile: (problem: FileProblem) => void): Promise<StoredSnapshot[]> {
  return repo.listSnapshots((file, e) => onDamagedFile({ file, message: (e as Error).message }));
}

/** Every entry below `path` in the snapshot, depth first, directories before what they hold. */
/**
 * Every entry below `path`, depth first in tree order, one directory's tree in memory at a
 * time per level: a listing of ten million files prints as it goes instead of holding them.
 */
export async function snapshotFiles(repo: Repository, snapshot: StoredSnapshot, path: string): Promise<AsyncGenerator<SnapshotEntry>> {
  // Found before the first entry is asked for: a path that is not there fails before any output.
  const start = await descend(repo, snapshot.tree, path);
  return walk(repo, start.tree, start.path);
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

async function* walk(repo: Repository, tree: Id, path: string): AsyncGenerator<SnapshotEntry> {
  for (const node of decodeTree(await repo.loadBlob('tree', tree), `tree ${tree}`).nodes) {
    const p = join(path, node.name);
    yield { path: p, node };
    if (node.type === 'dir') yield* walk(repo, node.subtree!, p);
  }
}
