import type { Id } from './ids.js';
import type { MasterIndex } from './master-index.js';
import type { BlobType } from './pack.js';
import type { Repository } from './repository.js';
import { decodeTree, referencedBlobs, type Tree } from './tree.js';

/** One byte a blob of the index (MasterIndex.blobMarks): which blobs a walk reached, without a set of ids. */
export type BlobMarks = ReturnType<MasterIndex['blobMarks']>;

export function loadTree(repo: Pick<Repository, 'loadBlob'>, id: Id): Promise<Tree> {
  return repo.loadBlob('tree', id).then((bytes) => decodeTree(bytes, `tree ${id}`));
}

/**
 * Marks every blob the trees at `roots` reach, each tree read once however many snapshots
 * share it (a marked tree is not read again), and calls `onFirst` for each blob this walk
 * marked first. Returns the ids the index does not have (a damaged repository: check's
 * business, counted so a reader can say so). What it holds is the marks and a stack of
 * subtree ids, never a list of files.
 */
export async function markReachable(
  repo: Pick<Repository, 'loadBlob'>,
  roots: Id[],
  marks: BlobMarks,
  onFirst: (type: BlobType, id: Id) => void = () => undefined,
): Promise<{ unknown: number }> {
  const stack = [...roots];
  let unknown = 0;
  const mark = (type: BlobType, id: Id): boolean => {
    const state = marks.mark(id);
    if (state === 'unknown') unknown++;
    if (state !== 'new') return false;
    onFirst(type, id);
    return true;
  };
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (!mark('tree', id)) continue;
    const refs = referencedBlobs(await loadTree(repo, id));
    for (const data of refs.data) mark('data', data);
    stack.push(...refs.trees);
  }
  return { unknown };
}
