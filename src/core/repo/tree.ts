import { DriveseedError } from '../errors.js';
import type { Id } from './ids.js';

/*
 * A tree blob is one directory: JSON {"nodes": [...]}, nodes sorted by name (UTF-16 code
 * unit order, as JSON.stringify/Array.sort give) so equal directories give equal blobs and
 * dedup to one. Times are integer nanoseconds since the epoch, as decimal strings, because
 * file systems keep nanoseconds and a JS number cannot hold them exactly.
 */

export type NodeType = 'file' | 'dir' | 'symlink';

export interface TreeNode {
  name: string;
  type: NodeType;
  mode: number;
  mtimeNs: string;
  uid: number;
  gid: number;
  /** file: byte length */
  size?: number;
  /** file: identity for change detection (not restored) */
  inode?: number;
  dev?: number;
  /** file: data blob ids in order */
  content?: Id[];
  /** dir: tree blob id */
  subtree?: Id;
  /** symlink: target as read */
  linkTarget?: string;
}

export interface Tree {
  nodes: TreeNode[];
}

export function encodeTree(tree: Tree): Buffer {
  const nodes = [...tree.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.from(JSON.stringify({ nodes }), 'utf8');
}

export function decodeTree(bytes: Buffer, what: string): Tree {
  let tree: Tree;
  try {
    tree = JSON.parse(bytes.toString('utf8')) as Tree;
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: tree is not valid JSON`, { cause });
  }
  if (!tree || !Array.isArray(tree.nodes)) throw new DriveseedError('CORRUPT', `${what}: tree has no node list`);
  return tree;
}

/** Every blob a tree references directly: its files' data blobs and its subtrees. */
export function referencedBlobs(tree: Tree): { data: Id[]; trees: Id[] } {
  const data: Id[] = [];
  const trees: Id[] = [];
  for (const node of tree.nodes) {
    if (node.content) data.push(...node.content);
    if (node.subtree) trees.push(node.subtree);
  }
  return { data, trees };
}
