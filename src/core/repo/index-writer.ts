import type { Id } from './ids.js';
import { encodeIndexFile } from './index-file.js';
import { INDEX_DIR } from './layout.js';
import type { MasterIndex, PackEntry } from './master-index.js';
import type { PackJournal } from './pack-journal.js';
import type { RepositoryFiles } from './repository-files.js';

/** A pack a writer stored. */
export interface StoredPack {
  id: Id;
  size: number;
}

/** An index checkpoint after this many new packs, so a killed backup loses little. */
const CHECKPOINT_EVERY_PACKS = 8;

/**
 * How one writer grows the repository's index. A blob it is about to store is claimed first
 * and counts as stored from then on, so it is stored once however many files hold it. A
 * stored pack waits for the next checkpoint — an index file written every
 * CHECKPOINT_EVERY_PACKS packs and at flush — and only then goes into the index itself.
 */
export class IndexWriter {
  /** Blobs claimed for a pack that no index file names yet. */
  private readonly claimed = new Set<Id>();
  private unindexed: PackEntry[] = [];
  /**
   * Every pack this writer stored, in order, by id and size only: its blobs are in the index,
   * and a list of them all held an object a blob for the whole run (half a kilobyte a file
   * in a first backup of a million small files).
   */
  readonly writtenPacks: StoredPack[] = [];
  /** Bytes of the packs and index files this writer stored. */
  bytesAdded = 0;

  /** Where the packs stored but not yet indexed are recorded, so a killed run's are found without a listing. */
  journal?: PackJournal;

  constructor(
    private readonly files: RepositoryFiles,
    private readonly index: MasterIndex,
  ) {}

  /** True when the blob is stored or on its way into a pack. */
  knows(id: Id): boolean {
    return this.index.has(id) || this.claimed.has(id);
  }

  /** Claims a blob id for this writer; false when someone already stored or claimed it. */
  claim(id: Id): boolean {
    if (this.knows(id)) return false;
    this.claimed.add(id);
    return true;
  }

  async packStored(pack: PackEntry): Promise<void> {
    this.bytesAdded += pack.size;
    this.writtenPacks.push({ id: pack.id, size: pack.size });
    this.unindexed.push(pack);
    if (this.unindexed.length >= CHECKPOINT_EVERY_PACKS) await this.checkpoint();
    else await this.journal?.record(this.unindexed);
  }

  /** Writes an index file of the packs stored since the last one, and indexes them. */
  async checkpoint(): Promise<void> {
    const packs = this.unindexed;
    if (packs.length === 0) return;
    this.unindexed = [];
    await this.writeFile(packs);
    for (const pack of packs) for (const blob of pack.blobs) this.claimed.delete(blob.id);
    await this.journal?.record(this.unindexed);
  }

  /** Writes an index file that names `packs` and indexes them as named by it; returns its id. */
  async writeFile(packs: PackEntry[]): Promise<Id> {
    const { id, size } = await this.files.writeSealedPayload('index', INDEX_DIR, encodeIndexFile(packs));
    this.bytesAdded += size;
    const source = this.index.addFile({ name: INDEX_DIR + id, size });
    for (const pack of packs) this.index.addPack(pack, source);
    return id;
  }
}
