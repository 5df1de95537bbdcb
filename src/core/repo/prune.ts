import { DriveseedError } from '../errors.js';
import type { Id } from './ids.js';
import { idFromName, INDEX_DIR, packName } from './layout.js';
import type { PackEntry } from './master-index.js';
import type { PackedBlob } from './pack.js';
import type { Repository } from './repository.js';
import { decodeTree, referencedBlobs } from './tree.js';

/** A pack with at least this share of unused bytes is rewritten; below it, the garbage stays. */
const REPACK_UNUSED_SHARE = 0.2;

export interface PruneReport {
  packsDeleted: number;
  packsRepacked: number;
  packsKept: number;
  bytesFreed: number;
}

/**
 * Removes data no snapshot uses. Caller holds the exclusive lock and has loaded the index.
 * Crash-safe order: new packs → one full index → old index files deleted → old packs deleted.
 * At every point the index files name only packs that exist, so a kill loses nothing.
 */
export async function prune(repo: Repository): Promise<PruneReport> {
  const used = await usedBlobs(repo);
  const oldIndexFiles: string[] = [];
  for await (const info of repo.store.list(INDEX_DIR)) oldIndexFiles.push(info.name);
  const present = await repo.listPacks();
  // The repository may have written packs before (the agent prunes right after its backup): only the rewrites count against what is freed.
  const writtenBefore = repo.writtenPacks.length;

  // Packs go by one at a time; only those to rewrite are kept, with their live blobs (the
  // marks are good only until the rewrite adds blobs). The rest is counted, not held.
  const gone = new Set<Id>();
  const repack: { pack: PackEntry; live: PackedBlob[] }[] = [];
  let packsDeleted = 0;
  let packsKept = 0;
  for (const pack of repo.index.allPacks()) {
    const live = pack.blobs.filter((b) => used.marked(b.id) && repo.index.lookup(b.id)?.pack === pack.id);
    const liveBytes = live.reduce((n, b) => n + b.length, 0);
    const totalBytes = pack.blobs.reduce((n, b) => n + b.length, 0);
    if (live.length === 0) packsDeleted++;
    else if (totalBytes - liveBytes >= REPACK_UNUSED_SHARE * totalBytes) repack.push({ pack, live });
    else {
      packsKept++;
      continue;
    }
    gone.add(pack.id);
  }

  for (const { pack, live } of repack) {
    const bytes = await repo.store.get(packName(pack.id));
    // Blobs move as ciphertext: their AEAD binds id and type, not position, so no key work.
    for (const blob of live) await repo.addSealedBlob(blob.type, blob.id, bytes.subarray(blob.offset, blob.offset + blob.length), blob.rawLength);
  }
  await repo.flush();
  const written = repo.writtenPacks.slice(writtenBefore);

  // One index file of every pack that stays: those kept and those just written (the flush indexed them).
  const fullIndex = await repo.writeIndexPayload(repo.index.encodeAllPacksBut(gone));
  for (const name of oldIndexFiles) await repo.store.delete(name);
  for await (const info of repo.store.list(INDEX_DIR)) {
    if (idFromName(info.name) !== fullIndex) await repo.store.delete(info.name);
  }
  let bytesFreed = 0;
  for (const [id, size] of present) {
    if (repo.index.hasPack(id) && !gone.has(id)) continue;
    await repo.store.delete(packName(id));
    bytesFreed += size;
  }
  bytesFreed -= written.reduce((n, p) => n + p.size, 0);
  return { packsDeleted, packsRepacked: repack.length, packsKept, bytesFreed };
}

/** Marks every blob a snapshot reaches, in the index's own records (one byte a blob). */
async function usedBlobs(repo: Repository): Promise<{ marked(id: Id): boolean }> {
  const queue = (await repo.listSnapshots()).map((s) => s.tree);
  const used = repo.index.blobMarks();
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (used.mark(id) === 'seen') continue;
    let refs: { data: Id[]; trees: Id[] };
    try {
      refs = referencedBlobs(decodeTree(await repo.loadBlob('tree', id), `tree ${id}`));
    } catch (cause) {
      throw new DriveseedError('CORRUPT', `prune stopped before deleting anything: tree ${id} cannot be read`, {
        hint: 'run `driveseed check --read-data` first',
        cause,
      });
    }
    for (const data of refs.data) used.mark(data);
    queue.push(...refs.trees);
  }
  return used;
}
