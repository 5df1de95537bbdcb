import { BlobTable, TREE_BIT } from './blob-table.js';
import { bytesToWords, hexToWords, ID_WORDS, wordsToBytes, wordsToHex } from './id-words.js';
import type { Id } from './ids.js';
import { decodeIndexFile, IndexFileBuilder, type BinaryIndexFile, type PackEntry } from './index-file.js';
import type { PackedBlob } from './pack.js';
import { NO_SOURCE, PackTable } from './pack-table.js';

export type { PackEntry } from './index-file.js';

export interface BlobLocation extends PackedBlob {
  pack: Id;
}

/** An index file the index was filled from (or wrote), by name and stored size. */
export interface IndexFileInfo {
  name: string;
  size: number;
}

/**
 * Where every blob lives: the union of all index files, and of what this run stored. Kept
 * compact (docs/format.md, "The index in memory"): blob records in typed arrays naming their
 * pack by number, pack ids once in a pack table; about 48 bytes a blob.
 */
export class MasterIndex {
  private readonly blobs = new BlobTable();
  private readonly packs = new PackTable();
  /** Index files by number: a pack's source is the number of the last file that named it. */
  private readonly indexFiles: IndexFileInfo[] = [];
  private readonly fileNames = new Set<string>();
  private readonly words = new Uint32Array(ID_WORDS);

  /**
   * Adds the content of an index file (its payload, index-file.ts). A version 2 file's blobs
   * come in bulk: they are merged in at the next lookup or settle(), not one by one. A file
   * that does not decode adds nothing.
   */
  addIndexFile(file: IndexFileInfo, payload: Buffer): void {
    const content = decodeIndexFile(payload, file.name);
    const source = this.addFile(file);
    if (content.version === 1) for (const pack of content.packs) this.addPack(pack, source);
    else this.addBinaryFile(content.file, source);
  }

  private addBinaryFile(file: BinaryIndexFile, source: number): void {
    const packs = new Int32Array(file.packCount);
    for (let i = 0; i < file.packCount; i++) {
      bytesToWords(file.payload, file.packIdAt(i), this.words, 0);
      const known = this.packs.findWords(this.words, 0);
      if (known >= 0) this.packs.setSource(known, source);
      packs[i] = known >= 0 ? -1 : this.packs.add(this.words, 0, file.packSize(i), source);
    }
    this.blobs.addRun({ bytes: file.payload, at: file.recordsAt, count: file.blobCount, packs });
  }

  /** Numbers an index file, so the packs it names can say they came from it. */
  addFile(file: IndexFileInfo): number {
    this.fileNames.add(file.name);
    return this.indexFiles.push(file) - 1;
  }

  knowsFile(name: string): boolean {
    return this.fileNames.has(name);
  }

  /** The index files the index was filled from or wrote, by number. */
  get files(): readonly IndexFileInfo[] {
    return this.indexFiles;
  }

  /**
   * Adds a pack and its blobs, unless the pack is indexed already (a pack's content never
   * changes). A pack named by the index file `source` is from then on that file's.
   */
  addPack(pack: PackEntry, source = NO_SOURCE): void {
    hexToWords(pack.id, this.words, 0);
    const known = this.packs.findWords(this.words, 0);
    if (known >= 0) {
      if (source !== NO_SOURCE) this.packs.setSource(known, source);
      return;
    }
    const n = this.packs.add(this.words, 0, pack.size, source);
    for (const blob of pack.blobs) {
      hexToWords(blob.id, this.words, 0);
      this.blobs.add(blob.id, this.words, packWord(n, blob.type === 'tree'), blob.offset, blob.length, blob.rawLength);
    }
  }

  /** Sorts in what came in bulk and gives back the room the tables grew into. */
  settle(): void {
    this.blobs.settle();
    this.packs.trim();
  }

  has(id: Id): boolean {
    return this.blobs.find(id) >= 0;
  }

  /** Where the blob is: a fresh object a call (callers keep several). */
  lookup(id: Id): BlobLocation | undefined {
    const ref = this.blobs.find(id);
    if (ref < 0) return undefined;
    const word = this.blobs.location(ref, 0);
    const type = (word & TREE_BIT) !== 0 ? 'tree' : 'data';
    const pack = this.packs.idOf(word & ~TREE_BIT);
    return { type, id, pack, offset: this.blobs.location(ref, 1), length: this.blobs.location(ref, 2), rawLength: this.blobs.location(ref, 3) };
  }

  hasPack(id: Id): boolean {
    return this.packs.find(id) >= 0;
  }

  packSize(id: Id): number | undefined {
    const n = this.packs.find(id);
    return n < 0 ? undefined : this.packs.sizeOf(n);
  }

  /** Every pack with its blobs (in pack order), one pack at a time. */
  *allPacks(): Generator<PackEntry> {
    for (const [n, refs] of this.groupByPack(() => true)) {
      const blobs = [...refs].map((ref) => this.blobAt(ref, this.idOf(ref))).sort((a, b) => a.offset - b.offset);
      yield { id: this.packs.idOf(n), size: this.packs.sizeOf(n), blobs };
    }
  }

  get blobCount(): number {
    return this.blobs.count;
  }

  get packCount(): number {
    return this.packs.count;
  }

  /** A mark for every pack, set by `mark`: which index files name packs not marked. */
  packMarks(): { mark(id: Id): void; filesNamingUnmarked(): Set<number> } {
    const marked = new Uint8Array(this.packs.count);
    return {
      mark: (id) => {
        const n = this.packs.find(id);
        if (n >= 0 && n < marked.length) marked[n] = 1;
      },
      filesNamingUnmarked: () => {
        const files = new Set<number>();
        for (let n = 0; n < marked.length; n++) if (marked[n] === 0) files.add(this.packs.sourceOf(n));
        return files;
      },
    };
  }

  /** The version 2 payload of one index file naming every pack the files `sources` name. */
  encodeFiles(sources: ReadonlySet<number>): Buffer {
    return this.encodePacks((n) => sources.has(this.packs.sourceOf(n)));
  }

  /** The version 2 payload of one index file naming every pack but `excluded` (prune's new index, written from the tables, not from objects). */
  encodeAllPacksBut(excluded: ReadonlySet<Id>): Buffer {
    return this.encodePacks((n) => !excluded.has(this.packs.idOf(n)));
  }

  /**
   * A mark for every blob, by its record: which blobs a walk of the snapshots reached, at
   * one byte a blob where a set of ids took some 100. Good until the next blob is added.
   */
  blobMarks(): { mark(id: Id): 'new' | 'seen' | 'unknown'; marked(id: Id): boolean } {
    this.blobs.settle();
    const marks = new Uint8Array(this.blobs.count);
    return {
      mark: (id) => {
        const ref = this.blobs.find(id);
        if (ref < 0) return 'unknown';
        if (marks[ref]) return 'seen';
        marks[ref] = 1;
        return 'new';
      },
      marked: (id) => {
        const ref = this.blobs.find(id);
        return ref >= 0 && marks[ref] === 1;
      },
    };
  }

  private encodePacks(wanted: (pack: number) => boolean): Buffer {
    this.blobs.settle();
    const local = new Int32Array(this.packs.count).fill(-1);
    let packCount = 0;
    for (let n = 0; n < this.packs.count; n++) if (wanted(n)) local[n] = packCount++;
    let blobCount = 0;
    this.blobs.forEach((ref) => (blobCount += Number(local[this.blobs.location(ref, 0) & ~TREE_BIT] >= 0)));
    const builder = new IndexFileBuilder(packCount, blobCount);
    const words = new Uint32Array(ID_WORDS);
    const writeId = (to: Buffer, at: number) => wordsToBytes(words, 0, to, at);
    for (let n = 0; n < this.packs.count; n++) {
      if (local[n] < 0) continue;
      words.set(this.packs.idWords(n));
      builder.pack(writeId, this.packs.sizeOf(n));
    }
    this.blobs.forEach((ref, bucket) => {
      const packWord = this.blobs.location(ref, 0);
      const pack = local[packWord & ~TREE_BIT];
      if (pack < 0) return;
      this.blobs.idWords(ref, words, bucket);
      builder.blob(writeId, pack, (packWord & TREE_BIT) !== 0, this.blobs.location(ref, 1), this.blobs.location(ref, 2), this.blobs.location(ref, 3));
    });
    return builder.finish();
  }

  /** The packs the files `from` named are now named by the file `to` (which holds them all). */
  moveSources(from: ReadonlySet<number>, to: number): void {
    for (let n = 0; n < this.packs.count; n++) if (from.has(this.packs.sourceOf(n))) this.packs.setSource(n, to);
  }

  private blobAt(ref: number, id: Id): PackedBlob {
    const type = (this.blobs.location(ref, 0) & TREE_BIT) !== 0 ? 'tree' : 'data';
    return { type, id, offset: this.blobs.location(ref, 1), length: this.blobs.location(ref, 2), rawLength: this.blobs.location(ref, 3) };
  }

  private idOf(ref: number): Id {
    this.blobs.idWords(ref, this.words);
    return wordsToHex(this.words, 0);
  }

  /**
   * The blob records of every pack `wanted` accepts, pack by pack (a counting sort of the
   * records by pack number: 4 bytes a blob while it runs). Settles first, so refs stay good.
   */
  private *groupByPack(wanted: (pack: number) => boolean): Generator<[number, Uint32Array]> {
    this.blobs.settle();
    const start = new Uint32Array(this.packs.count + 1);
    this.blobs.forEach((ref) => start[(this.blobs.location(ref, 0) & ~TREE_BIT) + 1]++);
    for (let n = 1; n < start.length; n++) start[n] += start[n - 1];
    const order = new Uint32Array(this.blobs.count);
    const next = start.slice(0, this.packs.count);
    this.blobs.forEach((ref) => (order[next[this.blobs.location(ref, 0) & ~TREE_BIT]++] = ref));
    for (let n = 0; n < this.packs.count; n++) if (wanted(n)) yield [n, order.subarray(start[n], start[n + 1])];
  }
}

/** A record's first location word: the pack's number, with TREE_BIT for a tree blob. */
function packWord(pack: number, tree: boolean): number {
  return ((tree ? TREE_BIT : 0) | pack) >>> 0;
}
