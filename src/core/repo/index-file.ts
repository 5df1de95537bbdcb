import { DriveseedError } from '../errors.js';
import { isId, type Id } from './ids.js';
import type { BlobType, PackedBlob } from './pack.js';
import { parseJson } from './sealed-file.js';

/*
 * The payload of an index file (docs/format.md, "Index files"): version 2 is binary — a
 * header, a pack table, and blob records sorted by id — and is what writers write; version 1
 * was JSON and is still read. Sorted records let a reader merge files into its sorted
 * in-memory table in one sequential pass instead of sorting every blob again.
 */

/** The version index files are written in. */
export const INDEX_VERSION = 2;
const MAGIC = Buffer.from('DSI', 'latin1');
const HEADER_LENGTH = 12;
const PACK_LENGTH = 36;
/** A blob record: id (32 bytes), then pack index (top bit: tree), offset, sealed length, plaintext length (u32 each). */
export const RECORD_LENGTH = 48;
export const RECORD_TREE_BIT = 0x8000_0000;
const MAX_U32 = 0xffff_ffff;

export interface PackEntry {
  id: Id;
  size: number;
  blobs: PackedBlob[];
}

/** A version 2 file, checked, read in place. */
export class BinaryIndexFile {
  readonly packCount: number;
  readonly blobCount: number;
  /** Where record 0 starts; record i is RECORD_LENGTH bytes at recordsAt + i · RECORD_LENGTH. */
  readonly recordsAt: number;

  constructor(
    readonly payload: Buffer,
    what: string,
  ) {
    if (payload.length < HEADER_LENGTH) throw new DriveseedError('CORRUPT', `${what}: index header cut short`);
    if (payload[3] !== INDEX_VERSION) throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: index version ${payload[3]} is not supported`);
    this.packCount = payload.readUInt32LE(4);
    this.blobCount = payload.readUInt32LE(8);
    this.recordsAt = HEADER_LENGTH + this.packCount * PACK_LENGTH;
    if (payload.length !== this.recordsAt + this.blobCount * RECORD_LENGTH) {
      throw new DriveseedError('CORRUPT', `${what}: index of ${this.packCount} packs and ${this.blobCount} blobs is ${payload.length} bytes`);
    }
    this.checkRecords(what);
  }

  /** Where pack i's id (32 bytes) is in the payload. */
  packIdAt(i: number): number {
    return HEADER_LENGTH + i * PACK_LENGTH;
  }

  packSize(i: number): number {
    return this.payload.readUInt32LE(HEADER_LENGTH + i * PACK_LENGTH + 32);
  }

  private checkRecords(what: string): void {
    const bytes = this.payload;
    for (let i = 0; i < this.blobCount; i++) {
      const at = this.recordsAt + i * RECORD_LENGTH;
      if ((bytes.readUInt32LE(at + 32) & ~RECORD_TREE_BIT) >= this.packCount)
        throw new DriveseedError('CORRUPT', `${what}: blob record ${i} names no pack of the file`);
      if (i > 0 && compareIds(bytes, at - RECORD_LENGTH, at) > 0) throw new DriveseedError('CORRUPT', `${what}: blob records out of order at ${i}`);
    }
  }
}

function compareIds(bytes: Uint8Array, a: number, b: number): number {
  for (let j = 0; j < 32; j++) if (bytes[a + j] !== bytes[b + j]) return bytes[a + j] - bytes[b + j];
  return 0;
}

export type IndexFileContent = { version: 1; packs: PackEntry[] } | { version: 2; file: BinaryIndexFile };

/** An index file's payload, checked whole: bad input stops here with one line, before anything is indexed. */
export function decodeIndexFile(payload: Buffer, what: string): IndexFileContent {
  if (payload.subarray(0, 3).equals(MAGIC)) return { version: 2, file: new BinaryIndexFile(payload, what) };
  return { version: 1, packs: decodeJsonIndex(parseJson(payload, what), what) };
}

/** Writes a version 2 payload: the packs, then the blobs in id order. */
export class IndexFileBuilder {
  private readonly bytes: Buffer;
  private packs = 0;
  private blobs = 0;

  constructor(
    private readonly packCount: number,
    private readonly blobCount: number,
  ) {
    this.bytes = Buffer.alloc(HEADER_LENGTH + packCount * PACK_LENGTH + blobCount * RECORD_LENGTH);
    MAGIC.copy(this.bytes, 0);
    this.bytes[3] = INDEX_VERSION;
    this.bytes.writeUInt32LE(packCount, 4);
    this.bytes.writeUInt32LE(blobCount, 8);
  }

  /** Adds a pack, its id's 32 bytes put by `writeId`; returns its index in the file. */
  pack(writeId: (to: Buffer, at: number) => void, size: number): number {
    const at = HEADER_LENGTH + this.packs * PACK_LENGTH;
    writeId(this.bytes, at);
    this.bytes.writeUInt32LE(size, at + 32);
    return this.packs++;
  }

  /** Adds the next blob; blobs come in id order. */
  blob(writeId: (to: Buffer, at: number) => void, pack: number, tree: boolean, offset: number, length: number, rawLength: number): void {
    const at = HEADER_LENGTH + this.packCount * PACK_LENGTH + this.blobs++ * RECORD_LENGTH;
    writeId(this.bytes, at);
    this.bytes.writeUInt32LE((pack | (tree ? RECORD_TREE_BIT : 0)) >>> 0, at + 32);
    this.bytes.writeUInt32LE(offset, at + 36);
    this.bytes.writeUInt32LE(length, at + 40);
    this.bytes.writeUInt32LE(rawLength, at + 44);
  }

  finish(): Buffer {
    if (this.packs !== this.packCount || this.blobs !== this.blobCount) {
      throw new Error(`index file builder: ${this.packCount} packs and ${this.blobCount} blobs announced, ${this.packs} and ${this.blobs} written`);
    }
    return this.bytes;
  }
}

/** The version 2 payload of an index file naming `packs`. */
export function encodeIndexFile(packs: readonly PackEntry[]): Buffer {
  const blobs = packs.flatMap((pack, p) => pack.blobs.map((blob) => ({ blob, p })));
  // Lower-case hex sorts as the bytes do.
  blobs.sort((a, b) => (a.blob.id < b.blob.id ? -1 : a.blob.id > b.blob.id ? 1 : 0));
  const builder = new IndexFileBuilder(packs.length, blobs.length);
  for (const pack of packs) builder.pack((to, at) => to.write(pack.id, at, 'hex'), pack.size);
  for (const { blob, p } of blobs) builder.blob((to, at) => to.write(blob.id, at, 'hex'), p, blob.type === 'tree', blob.offset, blob.length, blob.rawLength);
  return builder.finish();
}

/** A version 1 (JSON) index file's packs, checked. */
function decodeJsonIndex(value: unknown, what: string): PackEntry[] {
  const file = value as { version?: unknown; packs?: unknown };
  if (typeof file !== 'object' || file === null) throw new DriveseedError('CORRUPT', `${what}: not an index`);
  if (file.version !== 1) throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: index version ${JSON.stringify(file.version)} is not supported`);
  if (!Array.isArray(file.packs)) throw new DriveseedError('CORRUPT', `${what}: index has no pack list`);
  for (const pack of file.packs as PackEntry[]) {
    if (typeof pack !== 'object' || pack === null) throw new DriveseedError('CORRUPT', `${what}: malformed pack entry`);
    if (!isId(pack.id) || !isU32(pack.size) || !Array.isArray(pack.blobs)) throw new DriveseedError('CORRUPT', `${what}: malformed pack entry`);
    for (const blob of pack.blobs) {
      if (
        typeof blob !== 'object' ||
        blob === null ||
        !isId(blob.id) ||
        !isBlobType(blob.type) ||
        !isU32(blob.offset) ||
        !isU32(blob.length) ||
        !isU32(blob.rawLength)
      ) {
        throw new DriveseedError('CORRUPT', `${what}: malformed blob entry in pack ${pack.id}`);
      }
    }
  }
  return file.packs as PackEntry[];
}

function isU32(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_U32;
}

function isBlobType(value: unknown): value is BlobType {
  return value === 'data' || value === 'tree';
}
