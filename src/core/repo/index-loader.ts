import { DriveseedError, isDriveseedError } from '../errors.js';
import type { BlobInfo } from '../storage/blob-store.js';
import type { Id } from './ids.js';
import type { IndexWriter } from './index-writer.js';
import type { PackJournal } from './pack-journal.js';
import { mapLimited } from '../util/semaphore.js';
import { DATA_DIR, idFromName, INDEX_DIR, packName } from './layout.js';
import type { MasterIndex, PackEntry } from './master-index.js';
import { decodePackHeader, PACK_TRAILER_LENGTH, parsePackTrailer, type PackedBlob } from './pack.js';
import type { RepositoryFiles } from './repository-files.js';

export interface FileProblem {
  file: string;
  message: string;
}

/**
 * Listings a load makes when index files vanish under it: each vanishing means a writer
 * consolidated them, and its new file holds what they held.
 */
const LISTINGS_PER_LOAD = 4;
/** Pack headers read at once when packs are indexed from their headers. */
const HEADERS_READ_AT_ONCE = 8;

/**
 * Fills the in-memory index from the store: from the index files, and from the packs' own
 * headers for packs no index file names.
 */
export class IndexLoader {
  constructor(
    private readonly files: RepositoryFiles,
    private readonly key: Buffer,
    private readonly index: MasterIndex,
    private readonly writer: IndexWriter,
  ) {}

  /**
   * Loads every index file. A damaged one does not stop readers: it is reported, and the
   * packs it described are indexed from their own headers instead (in memory only).
   */
  async loadIndex(): Promise<FileProblem[]> {
    const problems: FileProblem[] = [];
    for (let listing = 1; ; listing++) {
      let vanished = 0;
      for await (const info of this.files.store.list(INDEX_DIR)) {
        if (this.index.knowsFile(info.name)) continue;
        try {
          await this.loadFile(info);
        } catch (e) {
          if (isDriveseedError(e, 'NOT_FOUND') && listing < LISTINGS_PER_LOAD) vanished++;
          else problems.push({ file: info.name, message: (e as Error).message });
        }
      }
      if (vanished === 0) break;
    }
    this.index.settle();
    if (problems.length > 0) await this.indexPacksFromHeaders(false);
    return problems;
  }

  private async loadFile(info: BlobInfo): Promise<void> {
    const payload = await this.files.readSealedPayload('index', info.name);
    this.index.addIndexFile({ name: info.name, size: info.size }, payload);
  }

  /**
   * Packs no index names — a killed writer's, or those of a damaged index file — are still
   * good data: read their headers and index them (and with `persist`, write an index file),
   * so nothing is stored twice and nothing readable is lost.
   */
  async indexPacksFromHeaders(persist: boolean): Promise<number> {
    return this.indexFromHeaders(await this.listPacks(), persist);
  }

  /**
   * The packs a killed run of this writer stored without indexing them, as its journal
   * recorded them, indexed from their headers and written into an index file: a backup's way
   * of finding them without listing every pack. With no journal, the listing it replaces.
   */
  async indexJournaledPacks(journal: PackJournal | undefined): Promise<number> {
    if (!journal) return this.indexPacksFromHeaders(true);
    const recorded = await journal.recorded();
    const found = await this.indexFromHeaders(new Map(recorded.map((p) => [p.id, p.size])), true);
    await journal.clearRecorded();
    return found;
  }

  /** Reads the headers of the packs no index names, a few at a time (each is two ranged reads, a round trip over a link). */
  private async indexFromHeaders(packs: Map<Id, number>, persist: boolean): Promise<number> {
    const unindexed = [...packs].filter(([id]) => !this.index.hasPack(id));
    const read = await mapLimited(unindexed, HEADERS_READ_AT_ONCE, async ([id, size]): Promise<PackEntry | undefined> => {
      try {
        return { id, size, blobs: await this.readPackHeader(id, size) };
      } catch {
        // A damaged or vanished pack is check's business; it must not stop a backup or a restore.
        return undefined;
      }
    });
    const found = read.filter((pack): pack is PackEntry => pack !== undefined);
    if (found.length > 0 && persist) await this.writer.writeFile(found);
    else for (const pack of found) this.index.addPack(pack);
    return found.length;
  }

  /** Every pack in the store, with its size. */
  async listPacks(): Promise<Map<Id, number>> {
    const packs = new Map<Id, number>();
    for await (const info of this.files.store.list(DATA_DIR)) packs.set(idFromName(info.name), info.size);
    return packs;
  }

  private async readPackHeader(packId: Id, size: number): Promise<PackedBlob[]> {
    const name = packName(packId);
    if (size < PACK_TRAILER_LENGTH) throw new DriveseedError('CORRUPT', `${name}: too short to be a pack`);
    const trailer = await this.files.store.get(name, { offset: size - PACK_TRAILER_LENGTH, length: PACK_TRAILER_LENGTH });
    const at = parsePackTrailer(trailer, size, name);
    return decodePackHeader(this.key, await this.files.store.get(name, at), name);
  }
}
