import type { Id } from './ids.js';
import { idFromName, SNAPSHOTS_DIR } from './layout.js';
import type { RepositoryFiles } from './repository-files.js';
import { decodeSnapshot, type Snapshot, type StoredSnapshot } from './snapshot.js';

/** The snapshot files of a repository, one sealed file per snapshot in snapshots/. */
export class SnapshotFiles {
  constructor(private readonly files: RepositoryFiles) {}

  async save(snapshot: Snapshot): Promise<Id> {
    return (await this.files.writeSealed('snapshot', SNAPSHOTS_DIR, snapshot)).id;
  }

  async load(id: Id): Promise<StoredSnapshot> {
    const name = SNAPSHOTS_DIR + id;
    return { ...decodeSnapshot(await this.files.readSealed('snapshot', name), name), id };
  }

  /** Every snapshot; one that does not load goes to `onError` if given, and otherwise stops the listing. */
  async list(onError?: (name: string, error: unknown) => void): Promise<StoredSnapshot[]> {
    const out: StoredSnapshot[] = [];
    for await (const info of this.files.store.list(SNAPSHOTS_DIR)) {
      try {
        out.push(await this.load(idFromName(info.name)));
      } catch (e) {
        if (!onError) throw e;
        onError(info.name, e);
      }
    }
    return out;
  }
}
