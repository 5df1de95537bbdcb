import { randomBytes } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobReader } from './blob-reader.js';
import { encodePayload } from './compression.js';
import { blobIdFunction, generateMasterKey, seal, type BlobIdFunction, type BlobIdScheme, type MasterKey } from './crypto.js';
import type { FileIdScheme, Id } from './ids.js';
import { consolidateIndex, type ConsolidationReport } from './index-consolidation.js';
import { IndexLoader, type FileProblem } from './index-loader.js';
import { IndexWriter, type StoredPack } from './index-writer.js';
import { openMasterKey, writeKeyFile } from './key-file.js';
import { CONFIG_FILE, INDEX_DIR } from './layout.js';
import { MasterIndex, type BlobLocation, type PackEntry } from './master-index.js';
import { OpenPacks } from './open-packs.js';
import { blobAad, type BlobType } from './pack.js';
import { PackUploader } from './pack-uploader.js';
import { idSchemesOf, encodeConfig, readConfig, REPOSITORY_FORMAT, REPOSITORY_VERSION, type RepositoryConfig } from './config.js';
import { RepositoryFiles } from './repository-files.js';
import { SnapshotFiles } from './snapshot-files.js';
import type { Snapshot, StoredSnapshot } from './snapshot.js';
import { RepositoryLock } from './lock.js';
import { PackJournal } from './pack-journal.js';

/**
 * An open repository: what its readers and writers see, composed of one part per job —
 * reading blobs, loading the index, filling packs on main, uploading packs, checkpointing
 * the index, and the snapshot files. A writer stores blobs (saveBlob, or claim and then
 * addSealedBlob or storePack) and makes them findable with flush().
 */
export class Repository {
  readonly index = new MasterIndex();
  /** How this repository's blob ids are made; worker threads make their own function from it. */
  readonly blobIdScheme: BlobIdScheme;
  /** How this repository names its packs, index and snapshot files. */
  readonly fileIdScheme: FileIdScheme;
  private readonly idOf: BlobIdFunction;
  private readonly files: RepositoryFiles;
  private readonly blobs: BlobReader;
  private readonly indexLoader: IndexLoader;
  private readonly indexWriter: IndexWriter;
  private readonly uploader: PackUploader;
  private readonly openPacks: OpenPacks;
  private readonly snapshots: SnapshotFiles;
  private journal?: PackJournal;

  private constructor(
    readonly store: BlobStore,
    readonly config: RepositoryConfig,
    readonly key: MasterKey,
  ) {
    ({ blobIds: this.blobIdScheme, fileIds: this.fileIdScheme } = idSchemesOf(config));
    this.idOf = blobIdFunction(this.blobIdScheme, key.mac);
    this.files = new RepositoryFiles(store, key.encryption, this.fileIdScheme);
    this.blobs = new BlobReader(store, key.encryption, this.index, this.idOf);
    this.indexWriter = new IndexWriter(this.files, this.index);
    this.indexLoader = new IndexLoader(this.files, key.encryption, this.index, this.indexWriter);
    this.uploader = new PackUploader(store, (pack) => this.indexWriter.packStored(pack));
    this.openPacks = new OpenPacks(key.encryption, this.files, this.uploader);
    this.snapshots = new SnapshotFiles(this.files);
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

  /** Reads the config and the key files at once (each is a round trip over a long link); a missing config is the error that counts. */
  static async open(store: BlobStore, password: string): Promise<Repository> {
    const [config, key] = await Promise.allSettled([readConfig(store), openMasterKey(store, password)]);
    if (config.status === 'rejected') throw config.reason;
    if (key.status === 'rejected') throw key.reason;
    return new Repository(store, config.value, key.value);
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

  /**
   * This repository through a wrapper of its own store (a local cache in front of it): the
   * wrapper cannot hold another repository, so the config is not read again.
   */
  wrappedIn(wrapper: BlobStore): Repository {
    return new Repository(wrapper, this.config, this.key);
  }

  lock(exclusive: boolean, command: string): Promise<RepositoryLock> {
    return RepositoryLock.acquire(this.store, this.key.encryption, exclusive, command);
  }

  /** Every pack this writer uploaded, in order. */
  get writtenPacks(): StoredPack[] {
    return this.indexWriter.writtenPacks;
  }

  /** Bytes of the packs and index files this writer stored. */
  get bytesAdded(): number {
    return this.indexWriter.bytesAdded;
  }

  fileId(bytes: Uint8Array | readonly Uint8Array[]): Id {
    return this.files.fileId(bytes);
  }

  blobId(plaintext: Uint8Array): Id {
    return this.idOf(plaintext);
  }

  // ---- reading -------------------------------------------------------------------------

  /** Loads every index file; a damaged one is reported and its packs indexed from their headers. */
  loadIndex(): Promise<FileProblem[]> {
    return this.indexLoader.loadIndex();
  }

  /** Indexes the packs no index file names from their headers; with `persist`, writes an index file of them. */
  indexPacksFromHeaders(persist: boolean): Promise<number> {
    return this.indexLoader.indexPacksFromHeaders(persist);
  }

  /**
   * Keeps a journal of the packs stored but not yet indexed in `directory` (local, this
   * client's own), and finds a killed run's packs through it instead of a listing of every pack.
   */
  journalPacksIn(directory: string): void {
    this.journal = new PackJournal(directory);
    this.indexWriter.journal = this.journal;
  }

  /** Indexes what a killed writer stored without indexing: from the journal if there is one, else from a listing of every pack. */
  indexUnindexedPacks(): Promise<number> {
    return this.indexLoader.indexJournaledPacks(this.journal);
  }

  listPacks(): Promise<Map<Id, number>> {
    return this.indexLoader.listPacks();
  }

  /** Where a blob is stored; NOT_FOUND when the index does not have it. */
  locate(type: BlobType, id: Id): BlobLocation {
    return this.blobs.locate(type, id);
  }

  loadBlob(type: BlobType, id: Id): Promise<Buffer> {
    return this.blobs.load(type, id);
  }

  /** Decrypts, decompresses and re-checks the id of one blob. */
  decodeBlob(type: BlobType, id: Id, sealed: Buffer, rawLength: number, what: string): Buffer {
    return this.blobs.decode(type, id, sealed, rawLength, what);
  }

  // ---- writing -------------------------------------------------------------------------

  /** Claims a blob id for this writer; false when someone already stored or claimed it. */
  claim(id: Id): boolean {
    return this.indexWriter.claim(id);
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

  /**
   * Appends an already sealed blob to the open pack of its type: one whose id was claimed, or
   * one the index holds already (prune moves blobs out of the packs it rewrites).
   */
  addSealedBlob(type: BlobType, id: Id, sealed: Buffer, rawLength: number): Promise<void> {
    return this.openPacks.add(type, id, sealed, rawLength);
  }

  /**
   * Stores a pack built elsewhere (by a chunk worker, in its own buffer) whose blobs were
   * claimed. Resolves once the pack is uploaded, so the caller may reuse the buffer; rejects if
   * the upload fails. flush() waits for it too.
   */
  storePack(entry: PackEntry, bytes: Uint8Array): Promise<void> {
    return this.uploader.uploadAndWait(entry, bytes);
  }

  /** Writes an index file of a payload encoded already (MasterIndex.encodeAllPacksBut); returns its id. The index is not changed. */
  async writeIndexPayload(payload: Buffer): Promise<Id> {
    return (await this.files.writeSealedPayload('index', INDEX_DIR, payload)).id;
  }

  /** Writes an index file that names `packs`; returns its id. */
  writeIndexFile(packs: PackEntry[]): Promise<Id> {
    return this.indexWriter.writeFile(packs);
  }

  /** Merges index files while too many of a size have piled up (index-consolidation.ts); after flush. */
  consolidateIndex(): Promise<ConsolidationReport> {
    return consolidateIndex(this.files, this.index);
  }

  /** Closes the open packs, waits for uploads and indexes everything written. */
  async flush(): Promise<void> {
    await this.openPacks.close('data');
    await this.openPacks.close('tree');
    await this.uploader.settle();
    await this.indexWriter.checkpoint();
  }

  // ---- snapshots -------------------------------------------------------------------------

  saveSnapshot(snapshot: Snapshot): Promise<Id> {
    return this.snapshots.save(snapshot);
  }

  loadSnapshot(id: Id): Promise<StoredSnapshot> {
    return this.snapshots.load(id);
  }

  listSnapshots(onError?: (name: string, error: unknown) => void): Promise<StoredSnapshot[]> {
    return this.snapshots.list(onError);
  }
}
