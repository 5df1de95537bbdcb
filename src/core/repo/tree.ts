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
  /** file: it changed while it was read, so its content may be no state it ever had (optional, docs/format.md) */
  changedWhileRead?: true;
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
  checkNodes(tree.nodes, what);
  return tree;
}

const NODE_TYPES: ReadonlySet<unknown> = new Set<NodeType>(['file', 'dir', 'symlink']);

/**
 * A tree is read as hostile: whoever holds the key can write any tree, and the restorer joins
 * each name onto the target. A name is one path component, so `/`, NUL, `.` and `..` (which
 * no file system lists) are refused, as are two nodes of one name: a symlink `x` beside a
 * directory `x` would have the restore write through the link.
 */
function checkNodes(nodes: unknown[], what: string): void {
  const names = new Set<string>();
  for (const node of nodes as Partial<TreeNode>[]) {
    if (typeof node !== 'object' || node === null) throw new DriveseedError('CORRUPT', `${what}: a node is not an object`);
    const name = node.name;
    if (typeof name !== 'string') throw new DriveseedError('CORRUPT', `${what}: a node's name is not a string`);
    if (!isPathComponent(name)) throw new DriveseedError('CORRUPT', `${what}: node name ${JSON.stringify(name)} is not a file name`);
    if (names.has(name)) throw new DriveseedError('CORRUPT', `${what}: node name ${JSON.stringify(name)} appears twice`);
    names.add(name);
    if (!NODE_TYPES.has(node.type)) throw new DriveseedError('CORRUPT', `${what}: node ${JSON.stringify(name)} has unknown type ${JSON.stringify(node.type)}`);
    if (!hasWhatItsTypeNeeds(node))
      throw new DriveseedError('CORRUPT', `${what}: ${node.type} node ${JSON.stringify(name)} lacks its ${fieldOfType(node.type!)}`);
  }
}

/** One component of a path: not empty, not `.` or `..`, without `/` or NUL. */
export function isPathComponent(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function hasWhatItsTypeNeeds(node: Partial<TreeNode>): boolean {
  if (node.type === 'dir') return typeof node.subtree === 'string';
  if (node.type === 'symlink') return typeof node.linkTarget === 'string';
  return Array.isArray(node.content) && node.content.every((id) => typeof id === 'string');
}

function fieldOfType(type: NodeType): string {
  return type === 'dir' ? 'subtree' : type === 'symlink' ? 'linkTarget' : 'content';
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
