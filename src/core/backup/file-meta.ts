import type { BigIntStats } from 'node:fs';
import type { Id } from '../repo/ids.js';
import type { TreeNode } from '../repo/tree.js';

/** The metadata every node keeps, from an lstat taken with bigint so nanoseconds survive. */
export function metaOf(name: string, st: BigIntStats): Pick<TreeNode, 'name' | 'mode' | 'mtimeNs' | 'uid' | 'gid'> {
  return {
    name,
    mode: Number(st.mode & 0o7777n),
    mtimeNs: st.mtimeNs.toString(),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/**
 * A file's node, keys in the order every writer uses (equal directories must encode to equal
 * trees). Assigned onto metaOf's object: spreading it into a second one cost an unchanged
 * backup a copy per file.
 */
export function fileNode(name: string, st: BigIntStats, size: number, content: Id[]): TreeNode {
  return Object.assign(metaOf(name, st), { type: 'file' as const, inode: Number(st.ino), dev: Number(st.dev), size, content });
}

/**
 * restic's rule: a file with the same size, mtime and inode as in the parent is not read again.
 * One that changed while it was read last time is read again whatever its stat says.
 */
export function unchanged(previous: TreeNode | undefined, st: BigIntStats): boolean {
  return (
    previous?.type === 'file' &&
    previous.changedWhileRead !== true &&
    previous.size === Number(st.size) &&
    previous.mtimeNs === st.mtimeNs.toString() &&
    previous.inode === Number(st.ino)
  );
}
