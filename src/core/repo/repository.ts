import { randomBytes } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import { blobDataLength, type BlobStore } from '../storage/blob-store.js';
import { decodePayload, encodePayload } from './compression.js';
import { blobIdFunction, generateMasterKey, open, seal, type BlobIdFunction, type BlobIdScheme, type MasterKey } from './crypto.js';
import { fileId, type FileIdScheme, type Id } from './ids.js';
import { openMasterKey, writeKeyFile } from './key-file.js';
import { CONFIG_FILE, DATA_DIR, idFromName, INDEX_DIR, packName, SNAPSHOTS_DIR } from './layout.js';
import { decodeIndexFile, INDEX_VERSION, MasterIndex, type BlobLocation, type PackEntry } from './master-index.js';
import { blobAad, decodePackHeader, encodePackTail, PACK_TARGET_SIZE, PACK_TRAILER_LENGTH, parsePackTrailer, type BlobType, type PackedBlob } from './pack.js';
import { idSchemesOf, encodeConfig, readConfig, REPOSITORY_FORMAT, REPOSITORY_VERSION, type RepositoryConfig } from './config.js';
import { decodeSealedJson, encodeSealedJson } from './sealed-file.js';
import { decodeSnapshot, type Snapshot, type StoredSnapshot } from './snapshot.js';
import { RepositoryLock } from './lock.js';

export { PACK_BUFFER_SIZE, PACK_TARGET_SIZE } from './pack.js';

/** Uploads in flight before writers wait: bounds memory at about (2 + this) packs. */
const MAX_PENDING_UPLOADS = 2;
/** Whole tree packs kept in memory (each at most PACK_TARGET_SIZE plus one blob). */
const TREE_PACKS_CACHED = 8;
/** An index checkpoint after this many new packs, so a killed backup loses little. */
const CHECKPOINT_EVERY_PACKS = 8;

class OpenPack {
  readonly parts: Buffer[] = [];
  readonly blobs: PackedBlob[] = [];
  size = 0;

  add(type: BlobType, id: Id, sealed: Buffer, rawLength: number): void {
    this.blobs.push({ type, id, offset: this.size, length: sealed.length, rawLength });
    this.parts.push(sealed);
    this.size += sealed.length;
  }
}

export interface FileProblem {
  file: string;
  message: string;
}

export class Repository {
  readonly index = new MasterIndex();
  private readonly openPacks: Record<BlobType, OpenPack> = { data: new OpenPack(), tree: new OpenPack() };
  /** Blobs handed to a pack that is not indexed yet: they count as stored for dedup. */
  private readonly pending = new Set<Id>();
  private readonly uploads = new Set<Promise<void>>();
  private unindexed: PackEntry[] = [];
  private readonly treePacks = new Map<Id, Promise<Buffer>>();
  private uploadError: unknown;
  /** Every pack this writer uploaded, in order. */
  readonly writtenPacks: PackEntry[] = [];
  bytesAdded = 0;
  /** How this repository's blob ids are made; worker threads make their own function from it. */
  readonly blobIdScheme: BlobIdScheme;
  /** How this repository names its packs, index and snapshot files. */
  readonly fileIdScheme: FileIdScheme;
  private readonly idOf: BlobIdFunction;

  private constructor(
    readonly store: BlobStore,
    readonly config: RepositoryConfig,
    readonly key: MasterKey,
  ) {
    ({ blobIds: this.blobIdScheme, fileIds: this.fileIdScheme } = idSchemesOf(config));
    this.idOf = blobIdFunction(this.blobIdScheme, key.mac);
  }

  static async init(store: BlobStore, password: string): Promise<Repository> {
    if (await store.exists(CONFIG_FILE)) {
      throw new DriveseedError('REPOSITORY_EXISTS', `${store.location} already holds a repository`);
    }
    const key = generateMasterKey();
    const config: RepositoryConfig = {
      format: REPOSITORY_FORMAT,
      version: REPOSITORY_VERSION,
      id: randomBytes(32).toString('hex'),
      created: new Date().toISOString(),
    };
    await writeKeyFile(store, key, password);
    // The config goes last: a store with a config is a usable repository.
    await store.put(CONFIG_FILE, encodeConfig(config));
    return new Repository(store, config, key);
  }

  static async open(store: BlobStore, password: string): Promise<Repository> {
    const config = await readConfig(store);
    const key = await openMasterKey(store, password);
    return new Repository(store, config, key);
  }

  /**
   * This repository through another store that holds it (a wrapper of its own store that
   * counts what goes by, or one with a local copy beneath): the key is reused rather than
   * derived from the password again, which costs scrypt's 0.1 s and 32 MiB each time.
   */
  async through(store: BlobStore): Promise<Repository> {
    const config = await readConfig(store);
    if (config.id !== this.config.id) {
      throw new DriveseedError('CONFLICT', `${store.location} holds repository ${config.id.slice(0, 8)}, not ${this.config.id.slice(0, 8)}`);
    }
    return new Repository(store, config, this.key);
  }

  lock(exclusive: boolean, command: string): Promise<RepositoryLock> {
    return RepositoryLock.acquire(this.store, this.key.encryption, exclusive, command);
  }

  // ---- reading -------------------------------------------------------------------------

  /** Reads a repository file and checks that its bytes hash to its name. */
  async readVerified(name: string): Promise<Buffer> {
    const bytes = await this.store.get(name);
    if (this.fileId(bytes) !== idFromName(name)) {
      throw new DriveseedError('CORRUPT', `${name}: content does not match its name (file damaged)`);
    }
    return bytes;
  }

  /**
   * Loads every index file. A damaged one does not stop readers: it is reported, and the
   * packs it described are indexed from their own headers instead (in memory only).
   */
  async loadIndex(): Promise<FileProblem[]> {
    const problems: FileProblem[] = [];
    for await (const info of this.store.list(INDEX_DIR)) {
      try {
        const bytes = await this.readVerified(info.name);
        const file = decodeIndexFile(decodeSealedJson(this.key.encryption, 'index', bytes, info.name), info.name);
        for (const pack of file.packs) this.index.addPack(pack);
      } catch (e) {
        problems.push({ file: info.name, message: (e as Error).message });
      }
    }
    if (problems.length > 0) await this.indexPacksFromHeaders(false);
    return problems;
  }

  /** Where a blob is stored; NOT_FOUND when the index does not have it. */
  locate(type: BlobType, id: Id): BlobLocation {
    const at = this.index.lookup(id);
    if (!at) throw new DriveseedError('NOT_FOUND', `${type} blob ${id} is not in the index`);
    return at;
  }

  async loadBlob(type: BlobType, id: Id): Promise<Buffer> {
    const at = this.locate(type, id);
    const sealed =
      type === 'tree'
        ? (await this.treePack(at.pack)).subarray(at.offset, at.offset + at.length)
        : await this.store.get(packName(at.pack), { offset: at.offset, length: at.length });
    return this.decodeBlob(type, id, sealed, `${type} blob ${id} in pack ${at.pack}`);
  }

  /**
   * Tree packs are read whole and kept: a walk of a parent snapshot touches thousands of small
   * tree blobs in a few packs, and one read per pack beats one per directory (over a network
   * store by far). Bounded, oldest first out.
   */
  private treePack(packId: Id): Promise<Buffer> {
    let pack = this.treePacks.get(packId);
    if (!pack) {
      pack = this.store.get(packName(packId));
      pack.catch(() => this.treePacks.delete(packId));
      this.treePacks.set(packId, pack);
      if (this.treePacks.size > TREE_PACKS_CACHED) this.treePacks.delete(this.treePacks.keys().next().value!);
    }
    return pack;
  }

  /** Decrypts, decompresses and re-checks the id of one blob: every read verifies. */
  decodeBlob(type: BlobType, id: Id, sealed: Buffer, what: string): Buffer {
    const plaintext = decodePayload(open(this.key.encryption, sealed, blobAad(type, id), what), what);
    if (this.idOf(plaintext) !== id) throw new DriveseedError('CORRUPT', `${what}: content does not match its id`);
    return plaintext;
  }

  async readPackHeader(packId: Id, packSize?: number): Promise<PackedBlob[]> {
    const name = packName(packId);
    const size = packSize ?? (await this.store.stat(name)).size;
    if (size < PACK_TRAILER_LENGTH) throw new DriveseedError('CORRUPT', `${name}: too short to be a pack`);
    const trailer = await this.store.get(name, { offset: size - PACK_TRAILER_LENGTH, length: PACK_TRAILER_LENGTH });
    const at = parsePackTrailer(trailer, size, name);
    return decodePackHeader(this.key.encryption, await this.store.get(name, at), name);
  }

  async listPacks(): Promise<Map<Id, number>> {
    const packs = new Map<Id, number>();
    for await (const info of this.store.list(DATA_DIR)) packs.set(idFromName(info.name), info.size);
    return packs;
  }

  // ---- writing -------------------------------------------------------------------------

  fileId(bytes: Uint8Array | readonly Uint8Array[]): Id {
    return fileId(bytes, this.fileIdScheme);
  }

  blobId(plaintext: Uint8Array): Id {
    return this.idOf(plaintext);
  }

  /** True when the blob is stored or on its way into a pack. */
  knows(id: Id): boolean {
    return this.index.has(id) || this.pending.has(id);
  }

  /** Claims a blob id for this writer; false when someone already stored or claimed it. */
  claim(id: Id): boolean {
    if (this.knows(id)) return false;
    this.pending.add(id);
    return true;
  }

  sealBlob(type: BlobType, id: Id, plaintext: Uint8Array): Buffer {
    return seal(this.key.encryption, encodePayload(plaintext), blobAad(type, id));
  }

  /** Stores a blob unless it is known; returns its id. */
  async saveBlob(type: BlobType, plaintext: Uint8Array): Promise<Id> {
    const id = this.blobId(plaintext);
    if (this.claim(id)) await this.addSealedBlob(type, id, this.sealBlob(type, id, plaintext), plaintext.length);
    return id;
  }

  /** Appends an already sealed blob (from a worker) whose id was claimed. */
  async addSealedBlob(type: BlobType, id: Id, sealed: Buffer, rawLength: number): Promise<void> {
    this.pending.add(id);
    const pack = this.openPacks[type];
    pack.add(type, id, sealed, rawLength);
    if (pack.size >= PACK_TARGET_SIZE) await this.finishPack(type);
  }

  private async finishPack(type: BlobType): Promise<void> {
    const pack = this.openPacks[type];
    if (pack.blobs.length === 0) return;
    this.openPacks[type] = new OpenPack();
    while (this.uploads.size >= MAX_PENDING_UPLOADS) await Promise.race(this.uploads);
    this.throwUploadError();
    const parts = [...pack.parts, encodePackTail(this.key.encryption, pack.blobs)];
    const entry: PackEntry = { id: this.fileId(parts), size: blobDataLength(parts), blobs: pack.blobs };
    const upload = this.store
      .put(packName(entry.id), parts)
      .then(() => this.packUploaded(entry))
      .catch((e) => {
        this.uploadError ??= e;
      })
      .finally(() => this.uploads.delete(upload));
    this.uploads.add(upload);
  }

  /**
   * Stores a pack built elsewhere (by a chunk worker, in its own buffer) whose blobs were
   * claimed. Resolves once the pack is uploaded, so the caller may reuse the buffer; rejects if
   * the upload fails. flush() waits for it too.
   */
  async storePack(entry: PackEntry, bytes: Uint8Array): Promise<void> {
    this.throwUploadError();
    const upload = this.store.put(packName(entry.id), bytes).then(() => this.packUploaded(entry));
    const tracked: Promise<void> = upload
      .catch((e) => {
        this.uploadError ??= e;
      })
      .finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
    await upload;
  }

  private async packUploaded(entry: PackEntry): Promise<void> {
    this.bytesAdded += entry.size;
    this.writtenPacks.push(entry);
    this.unindexed.push(entry);
    if (this.unindexed.length >= CHECKPOINT_EVERY_PACKS) await this.writeIndex();
  }

  private throwUploadError(): void {
    if (this.uploadError) throw this.uploadError;
  }

  private async writeIndex(): Promise<void> {
    const packs = this.unindexed;
    if (packs.length === 0) return;
    this.unindexed = [];
    await this.writeIndexFile(packs);
    for (const pack of packs) {
      this.index.addPack(pack);
      for (const blob of pack.blobs) this.pending.delete(blob.id);
    }
  }

  async writeIndexFile(packs: PackEntry[]): Promise<Id> {
    const bytes = encodeSealedJson(this.key.encryption, 'index', { version: INDEX_VERSION, packs });
    const id = this.fileId(bytes);
    await this.store.put(INDEX_DIR + id, bytes);
    this.bytesAdded += bytes.length;
    return id;
  }

  /** Closes the open packs, waits for uploads and indexes everything written. */
  async flush(): Promise<void> {
    await this.finishPack('data');
    await this.finishPack('tree');
    while (this.uploads.size > 0) await Promise.race(this.uploads);
    this.throwUploadError();
    await this.writeIndex();
  }

  /**
   * Packs no index names — a killed writer's, or those of a damaged index file — are still
   * good data: read their headers and index them (and with `persist`, write an index file),
   * so nothing is stored twice and nothing readable is lost.
   */
  async indexPacksFromHeaders(persist: boolean): Promise<number> {
    const found: PackEntry[] = [];
    for (const [id, size] of await this.listPacks()) {
      if (this.index.hasPack(id)) continue;
      try {
        found.push({ id, size, blobs: await this.readPackHeader(id, size) });
      } catch {
        // A damaged pack is check's business; it must not stop a backup or a restore.
      }
    }
    if (found.length > 0 && persist) await this.writeIndexFile(found);
    for (const pack of found) this.index.addPack(pack);
    return found.length;
  }

  // ---- snapshots -------------------------------------------------------------------------

  async saveSnapshot(snapshot: Snapshot): Promise<Id> {
    const bytes = encodeSealedJson(this.key.encryption, 'snapshot', snapshot);
    const id = this.fileId(bytes);
    await this.store.put(SNAPSHOTS_DIR + id, bytes);
    return id;
  }

  async loadSnapshot(id: Id): Promise<StoredSnapshot> {
    const name = SNAPSHOTS_DIR + id;
    const bytes = await this.readVerified(name);
    return { ...decodeSnapshot(decodeSealedJson(this.key.encryption, 'snapshot', bytes, name), name), id };
  }

  async listSnapshots(onError?: (name: string, error: unknown) => void): Promise<StoredSnapshot[]> {
    const out: StoredSnapshot[] = [];
    for await (const info of this.store.list(SNAPSHOTS_DIR)) {
      try {
        out.push(await this.loadSnapshot(idFromName(info.name)));
      } catch (e) {
        if (!onError) throw e;
        onError(info.name, e);
      }
    }
    return out;
  }
}
