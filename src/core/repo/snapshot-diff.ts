import { join } from 'node:path';
import type { Id } from './ids.js';
import type { Repository } from './repository.js';
import { loadTree, markReachable } from './snapshot-blobs.js';
import type { TreeNode } from './tree.js';

/**
 * restic's `diff` modifiers: `+` only in the second snapshot, `-` only in the first, `T` the
 * type changed (a file became a directory), `M` the content changed (a file's blobs, a link's
 * target), `U` only the metadata changed (mode, owner, time; reported when asked for).
 */
export type Change = '+' | '-' | 'T' | 'M' | 'U';

export interface DiffEntry {
  change: Change;
  path: string;
  /** The node as the second snapshot has it; for `-`, as the first had it. */
  node: TreeNode;
}

/**
 * What differs between two trees, depth first in name order, as the walk goes: one directory
 * pair's nodes in memory per level, and a subtree whose id is the same on both sides (nothing
 * below it differs) is never read. An added or removed directory brings all it holds.
 */
export async function* diffTrees(repo: Pick<Repository, 'loadBlob'>, first: Id, second: Id, options: { metadata?: boolean } = {}): AsyncGenerator<DiffEntry> {
  yield* diffDir(repo, first, second, '/', options.metadata === true);
}

async function* diffDir(repo: Pick<Repository, 'loadBlob'>, a: Id, b: Id, path: string, metadata: boolean): AsyncGenerator<DiffEntry> {
  if (a === b) return;
  const [before, after] = await Promise.all([loadTree(repo, a), loadTree(repo, b)]);
  const old = new Map(before.nodes.map((n) => [n.name, n]));
  const names = [...new Set([...before.nodes.map((n) => n.name), ...after.nodes.map((n) => n.name)])].sort();
  const now = new Map(after.nodes.map((n) => [n.name, n]));
  for (const name of names) {
    const p = join(path, name);
    const was = old.get(name);
    const is = now.get(name);
    if (!was) yield* whole(repo, '+', p, is!);
    else if (!is) yield* whole(repo, '-', p, was);
    else if (was.type !== is.type) {
      yield { change: 'T', path: p, node: is };
      if (was.type === 'dir') yield* below(repo, '-', p, was);
      if (is.type === 'dir') yield* below(repo, '+', p, is);
    } else if (contentDiffers(was, is)) yield { change: 'M', path: p, node: is };
    else if (metadata && metadataDiffers(was, is)) yield { change: 'U', path: p, node: is };
    if (was && is && was.type === 'dir' && is.type === 'dir') yield* diffDir(repo, was.subtree!, is.subtree!, p, metadata);
  }
}

async function* whole(repo: Pick<Repository, 'loadBlob'>, change: '+' | '-', path: string, node: TreeNode): AsyncGenerator<DiffEntry> {
  yield { change, path, node };
  yield* below(repo, change, path, node);
}

async function* below(repo: Pick<Repository, 'loadBlob'>, change: '+' | '-', path: string, node: TreeNode): AsyncGenerator<DiffEntry> {
  if (node.type !== 'dir') return;
  for (const child of (await loadTree(repo, node.subtree!)).nodes) yield* whole(repo, change, join(path, child.name), child);
}

function contentDiffers(a: TreeNode, b: TreeNode): boolean {
  if (a.type === 'symlink') return a.linkTarget !== b.linkTarget;
  if (a.type === 'file') return a.size !== b.size || a.content!.length !== b.content!.length || a.content!.some((id, i) => id !== b.content![i]);
  return false;
}

function metadataDiffers(a: TreeNode, b: TreeNode): boolean {
  return a.mode !== b.mode || a.mtimeNs !== b.mtimeNs || a.uid !== b.uid || a.gid !== b.gid;
}

/** restic's summary lines: files, directories and others (links, …) new, removed and changed. */
export interface DiffCounts {
  files: { new: number; removed: number; changed: number };
  dirs: { new: number; removed: number };
  others: { new: number; removed: number };
}

export function emptyDiffCounts(): DiffCounts {
  return { files: { new: 0, removed: 0, changed: 0 }, dirs: { new: 0, removed: 0 }, others: { new: 0, removed: 0 } };
}

export function countChange(counts: DiffCounts, entry: DiffEntry): void {
  const kind = entry.node.type === 'file' ? counts.files : entry.node.type === 'dir' ? counts.dirs : counts.others;
  if (entry.change === '+') kind.new++;
  else if (entry.change === '-') kind.removed++;
  else if (entry.change === 'M' && entry.node.type === 'file') counts.files.changed++;
}

/** Blobs only one of the two snapshots reaches, and their plaintext bytes: restic's "Data Blobs", "Tree Blobs", "Added", "Removed". */
export interface DiffBlobs {
  dataBlobs: { new: number; removed: number };
  treeBlobs: { new: number; removed: number };
  bytesAdded: number;
  bytesRemoved: number;
}

/**
 * Each side's blobs are marked in the index's own records (a byte a blob), then each side is
 * walked once more counting what the other lacks: a file moved to an unchanged directory adds
 * nothing, as in restic, and no set of ids is built.
 */
export async function diffBlobs(repo: Pick<Repository, 'loadBlob' | 'index'>, first: Id, second: Id): Promise<DiffBlobs> {
  const inFirst = repo.index.blobMarks();
  const inSecond = repo.index.blobMarks();
  await markReachable(repo, [first], inFirst);
  const result: DiffBlobs = { dataBlobs: { new: 0, removed: 0 }, treeBlobs: { new: 0, removed: 0 }, bytesAdded: 0, bytesRemoved: 0 };
  await markReachable(repo, [second], inSecond, (type, id) => {
    if (inFirst.marked(id)) return;
    (type === 'data' ? result.dataBlobs : result.treeBlobs).new++;
    result.bytesAdded += repo.index.lookup(id)?.rawLength ?? 0;
  });
  await markReachable(repo, [first], repo.index.blobMarks(), (type, id) => {
    if (inSecond.marked(id)) return;
    (type === 'data' ? result.dataBlobs : result.treeBlobs).removed++;
    result.bytesRemoved += repo.index.lookup(id)?.rawLength ?? 0;
  });
  return result;
}
