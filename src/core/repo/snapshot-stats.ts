import type { Id } from './ids.js';
import type { Repository } from './repository.js';
import { loadTree, markReachable } from './snapshot-blobs.js';
import type { StoredSnapshot } from './snapshot.js';

/** restic's `stats --mode restore-size`: what restoring each snapshot would write, summed over the snapshots. */
export interface RestoreSize {
  snapshots: number;
  files: number;
  dirs: number;
  others: number;
  bytes: number;
}

/**
 * Each distinct tree is read once: its totals are kept by tree id (a few numbers a directory,
 * never a file list), so snapshots sharing most of their trees cost little more than one.
 */
export async function restoreSize(repo: Pick<Repository, 'loadBlob'>, snapshots: readonly StoredSnapshot[]): Promise<RestoreSize> {
  const totals = new Map<Id, Omit<RestoreSize, 'snapshots'>>();
  const sum: RestoreSize = { snapshots: snapshots.length, files: 0, dirs: 0, others: 0, bytes: 0 };
  for (const snapshot of snapshots) {
    const t = await treeTotals(repo, snapshot.tree, totals);
    sum.files += t.files;
    sum.dirs += t.dirs;
    sum.others += t.others;
    sum.bytes += t.bytes;
  }
  return sum;
}

async function treeTotals(repo: Pick<Repository, 'loadBlob'>, id: Id, memo: Map<Id, Omit<RestoreSize, 'snapshots'>>): Promise<Omit<RestoreSize, 'snapshots'>> {
  const known = memo.get(id);
  if (known) return known;
  const t = { files: 0, dirs: 0, others: 0, bytes: 0 };
  for (const node of (await loadTree(repo, id)).nodes) {
    if (node.type === 'file') {
      t.files++;
      t.bytes += node.size ?? 0;
    } else if (node.type === 'dir') {
      const below = await treeTotals(repo, node.subtree!, memo);
      t.dirs += 1 + below.dirs;
      t.files += below.files;
      t.others += below.others;
      t.bytes += below.bytes;
    } else t.others++;
  }
  memo.set(id, t);
  return t;
}

/** restic's `stats --mode raw-data`: the distinct blobs the snapshots reach, as stored (compressed, sealed) and as plaintext. */
export interface RawData {
  snapshots: number;
  blobs: number;
  dataBlobs: number;
  treeBlobs: number;
  /** Bytes in the packs (compressed and sealed). */
  storedBytes: number;
  /** Bytes of plaintext. */
  rawBytes: number;
  /** Blobs a tree names that the index lacks: a damaged repository (`driveseed check` says more). */
  missing: number;
}

/** Each blob counted once however many files and snapshots share it: marked in the index's records, a byte a blob. */
export async function rawData(repo: Pick<Repository, 'loadBlob' | 'index'>, snapshots: readonly StoredSnapshot[]): Promise<RawData> {
  const result: RawData = { snapshots: snapshots.length, blobs: 0, dataBlobs: 0, treeBlobs: 0, storedBytes: 0, rawBytes: 0, missing: 0 };
  const { unknown } = await markReachable(
    repo,
    snapshots.map((s) => s.tree),
    repo.index.blobMarks(),
    (type, id) => {
      const at = repo.index.lookup(id)!;
      result.blobs++;
      if (type === 'data') result.dataBlobs++;
      else result.treeBlobs++;
      result.storedBytes += at.length;
      result.rawBytes += at.rawLength;
    },
  );
  result.missing = unknown;
  return result;
}
