import type { BigIntStats } from 'node:fs';
import type { TreeNode } from '../repo/tree.js';

/**
 * What a restore does with a file already at the path it restores (restic's four choices):
 *
 * - `always`: replace it;
 * - `if-changed`: replace it unless it has the snapshot's type, size and modification time
 *   (then it is taken as the snapshot's, as restic does; a file that differs is rewritten whole);
 * - `if-newer`: replace it only if the snapshot's copy is newer (by modification time);
 * - `never`: leave it as it is.
 *
 * The default is `never`, where restic's is `always`: restoring into a directory in use
 * overwrote the user's edits without a word (issue 18), and a restore must not lose data to
 * bring data back. What it leaves is counted and named, with the flag that replaces it.
 */
export const OVERWRITE_POLICIES = ['always', 'if-changed', 'if-newer', 'never'] as const;
export type OverwritePolicy = (typeof OVERWRITE_POLICIES)[number];
export const DEFAULT_OVERWRITE: OverwritePolicy = 'never';

/**
 * Whether to write `node` over `existing` (lstat'ed with bigint times). `linkTarget` is what an
 * existing symlink points at, read only when the policy needs it.
 */
export function shouldOverwrite(policy: OverwritePolicy, existing: BigIntStats, node: TreeNode, linkTarget: () => string): boolean {
  switch (policy) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'if-newer':
      return micros(BigInt(node.mtimeNs)) > micros(existing.mtimeNs);
    case 'if-changed':
      return !sameAsSnapshot(existing, node, linkTarget);
  }
}

function sameAsSnapshot(existing: BigIntStats, node: TreeNode, linkTarget: () => string): boolean {
  // Microseconds: what a restore can set (utimes from node), so a file this restore wrote compares equal.
  const sameTime = micros(BigInt(node.mtimeNs)) === micros(existing.mtimeNs);
  if (node.type === 'symlink') return existing.isSymbolicLink() && linkTarget() === node.linkTarget;
  return existing.isFile() && existing.size === BigInt(node.size ?? 0) && sameTime;
}

function micros(ns: bigint): bigint {
  return ns / 1000n;
}
