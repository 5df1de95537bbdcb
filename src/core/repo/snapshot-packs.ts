import { DriveseedError } from '../errors.js';
import type { Id } from './ids.js';
import { packName } from './layout.js';
import type { Repository } from './repository.js';
import type { StoredSnapshot } from './snapshot.js';
import { decodeTree, referencedBlobs } from './tree.js';

/**
 * The packs a snapshot needs, by name, with their sizes from the index: every pack holding
 * one of its trees or file contents. What an export job writes onto drives, and what a
 * restore from those drives looks for on them. The caller has loaded the index.
 */
export async function packsOfSnapshot(repo: Repository, snapshot: StoredSnapshot): Promise<Map<string, number>> {
  const marks = repo.index.blobMarks();
  const packs = new Map<string, number>();
  const need = (id: Id): boolean => {
    const location = repo.index.lookup(id);
    if (!location)
      throw new DriveseedError('CORRUPT', `snapshot ${snapshot.id.slice(0, 8)} needs blob ${id}, which no index lists`, {
        hint: 'run `driveseed check` on the repository',
      });
    if (!packs.has(location.pack)) packs.set(location.pack, repo.index.packSize(location.pack) ?? 0);
    return marks.mark(id) === 'new';
  };
  const queue: Id[] = [snapshot.tree];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (!need(id)) continue;
    const refs = referencedBlobs(decodeTree(await repo.loadBlob('tree', id), `tree ${id}`));
    for (const data of refs.data) need(data);
    queue.push(...refs.trees);
  }
  return new Map([...packs].map(([id, size]) => [packName(id), size]));
}
