import { DriveseedError } from '../errors.js';
import { shortId } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import type { StoredSnapshot } from '../repo/snapshot.js';
import { decodeTree, type TreeNode } from '../repo/tree.js';

/** Data blobs read ahead of the one being written: the next pack read overlaps the write. */
const READ_AHEAD = 4;

/** The node at `path` in the snapshot; NOT_FOUND naming the first part that is not there. */
export async function findNode(repo: Repository, snapshot: StoredSnapshot, path: string): Promise<TreeNode> {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) throw new DriveseedError('USAGE', 'dump writes one file; name a file, not /');
  let tree = snapshot.tree;
  let at = '';
  for (const [i, part] of parts.entries()) {
    at += '/' + part;
    const node = decodeTree(await repo.loadBlob('tree', tree), `tree ${tree}`).nodes.find((n) => n.name === part);
    if (!node) throw new DriveseedError('NOT_FOUND', `${at} is not in snapshot ${shortId(snapshot.id)}`, { hint: 'list it with driveseed ls' });
    if (i === parts.length - 1) return node;
    if (node.type !== 'dir') throw new DriveseedError('NOT_FOUND', `${at} is not a directory in snapshot ${shortId(snapshot.id)}`);
    tree = node.subtree!;
  }
  throw new Error('unreachable');
}

/**
 * Writes one file of a snapshot, blob by blob, to `write` (restic's `dump`): a database dump
 * goes back through a pipe (`driveseed dump … | psql`). Each blob's id is checked as it is
 * read; `write` resolving is the back-pressure, so memory stays at a few blobs.
 */
export async function dumpFile(repo: Repository, snapshot: StoredSnapshot, path: string, write: (bytes: Buffer) => Promise<void>): Promise<number> {
  const node = await findNode(repo, snapshot, path);
  if (node.type !== 'file')
    throw new DriveseedError('USAGE', `${path} is a ${node.type === 'dir' ? 'directory' : 'symlink'}; dump writes one file`, {
      hint: 'restore directories with driveseed restore',
    });
  const ids = node.content ?? [];
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  let written = 0;
  while (next < ids.length || pending.length > 0) {
    while (next < ids.length && pending.length < READ_AHEAD) {
      const read = repo.loadBlob('data', ids[next++]);
      read.catch(() => undefined); // awaited in order below; a later failure must not go unhandled meanwhile
      pending.push(read);
    }
    const bytes = await pending.shift()!;
    await write(bytes);
    written += bytes.length;
  }
  if (written !== node.size) throw new DriveseedError('CORRUPT', `${path}: its blobs hold ${written} bytes, the snapshot says ${node.size}`);
  return written;
}
