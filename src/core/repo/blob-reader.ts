import { DriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { decodePayload } from './compression.js';
import { open, type BlobIdFunction } from './crypto.js';
import type { Id } from './ids.js';
import { packName } from './layout.js';
import type { BlobLocation, MasterIndex } from './master-index.js';
import { blobAad, type BlobType } from './pack.js';
import { metadataCacheOf } from './metadata-cache.js';

/**
 * Whole tree packs kept in memory (each at most PACK_TARGET_SIZE plus one blob). A walk reads
 * trees in about the order they were written, so a few suffice; eight held up to 128 MiB, half
 * the high-water mark of an unchanged backup of a million files.
 */
const TREE_PACKS_CACHED = 3;

/** Reads blobs where the index says they are, and verifies each one it reads. */
export class BlobReader {
  private readonly treePacks = new Map<Id, Promise<Buffer>>();

  constructor(
    private readonly store: BlobStore,
    private readonly key: Buffer,
    private readonly index: MasterIndex,
    private readonly idOf: BlobIdFunction,
  ) {}

  /** Where a blob is stored; NOT_FOUND when the index does not have it. */
  locate(type: BlobType, id: Id): BlobLocation {
    const at = this.index.lookup(id);
    if (!at) throw new DriveseedError('NOT_FOUND', `${type} blob ${id} is not in the index`);
    return at;
  }

  async load(type: BlobType, id: Id): Promise<Buffer> {
    const at = this.locate(type, id);
    const sealed =
      type === 'tree'
        ? (await this.treePack(at.pack)).subarray(at.offset, at.offset + at.length)
        : await this.store.get(packName(at.pack), { offset: at.offset, length: at.length });
    return this.decode(type, id, sealed, at.rawLength, `${type} blob ${id} in pack ${at.pack}`);
  }

  /**
   * Decrypts, decompresses and re-checks the id of one blob: every read verifies. `rawLength`
   * is its plaintext length as the index or pack header gives it, the most it may decode to.
   */
  decode(type: BlobType, id: Id, sealed: Buffer, rawLength: number, what: string): Buffer {
    const plaintext = decodePayload(open(this.key, sealed, blobAad(type, id), what), what, rawLength);
    if (this.idOf(plaintext) !== id) throw new DriveseedError('CORRUPT', `${what}: content does not match its id`);
    return plaintext;
  }

  /**
   * Tree packs are read whole and kept: a walk of a parent snapshot touches thousands of small
   * tree blobs in a few packs, and one read per pack beats one per directory (over a network
   * store by far). Bounded, oldest first out.
   */
  private treePack(packId: Id): Promise<Buffer> {
    let pack = this.treePacks.get(packId);
    if (!pack) {
      const name = packName(packId);
      // A local metadata cache keeps tree packs (the next backup walks them again), not data packs.
      pack = this.store.get(name).then(async (bytes) => {
        await metadataCacheOf(this.store)?.keepCopy(name, bytes);
        return bytes;
      });
      pack.catch(() => this.treePacks.delete(packId));
      this.treePacks.set(packId, pack);
      if (this.treePacks.size > TREE_PACKS_CACHED) this.treePacks.delete(this.treePacks.keys().next().value!);
    }
    return pack;
  }
}
