import { DriveseedError } from '../errors.js';
import { isId, type Id } from './ids.js';
import type { BlobType, PackedBlob } from './pack.js';
import { parseJson } from './sealed-file.js';

/*
 * The payload of an index file (docs/format.md, "Index files"): version 2 is binary — a
 * header, a pack table, and blob records grouped by pack — and is what writers write;
 * version 1 was JSON and is still read.
 */

/** The version index files are written in. */
export const INDEX_VERSION = 2;
const MAGIC = Buffer.from('DSI', 'latin1');
const HEADER_LENGTH = 12;
const PACK_LENGTH = 40;
const BLOB_LENGTH = 45;
const MAX_U32 = 0xffff_ffff;

export interface PackEntry {
  id: Id;
  size: number;
  blobs: PackedBlob[];
}

/**
 * Receives an index file's content pack by pack, ids as 32 bytes at `at` in `bytes`, so that
 * loading makes no object per blob.
 */
export interface IndexSink {
  /** A pack; false when the sink knows it already (a pack's content never changes), and its blobs are skipped. */
  pack(bytes: Uint8Array, at: number, size: number): boolean;
  blob(bytes: Uint8Array, at: number, tree: boolean, offset: number, length: number, rawLength: number): void;
}

/** Writes a version 2 payload, pack by pack, into a buffer sized for the counts given first. */
export class IndexFileBuilder {
  private readonly bytes: Buffer;
  private packAt = HEADER_LENGTH;
  private blobAt: number;
  private blobsLeft = 0;

  constructor(
    private readonly packCount: number,
    private readonly blobCount: number,
  ) {
    this.blobAt = HEADER_LENGTH + packCount * PACK_LENGTH;
    this.bytes = Buffer.alloc(this.blobAt + blobCount * BLOB_LENGTH);
    MAGIC.copy(this.bytes, 0);
    this.bytes[3] = INDEX_VERSION;
    this.bytes.writeUInt32LE(packCount, 4);
    this.bytes.writeUInt32LE(blobCount, 8);
  }

  /** Starts a pack of `blobCount` blobs; the id's 32 bytes go where `writeId` puts them. */
  pack(writeId: (to: Buffer, at: number) => void, size: number, blobCount: number): void {
    if (this.blobsLeft !== 0) throw new Error(`index file builder: ${this.blobsLeft} blobs of the last pack missing`);
    writeId(this.bytes, this.packAt);
    this.bytes.writeUInt32LE(size, this.packAt + 32);
    this.bytes.writeUInt32LE(blobCount, this.packAt + 36);
    this.packAt += PACK_LENGTH;
    this.blobsLeft = blobCount;
  }

  blob(writeId: (to: Buffer, at: number) => void, tree: boolean, offset: number, length: number, rawLength: number): void {
    const at = this.blobAt;
    this.bytes[at] = tree ? 1 : 0;
    writeId(this.bytes, at + 1);
    this.bytes.writeUInt32LE(offset, at + 33);
    this.bytes.writeUInt32LE(length, at + 37);
    this.bytes.writeUInt32LE(rawLength, at + 41);
    this.blobAt += BLOB_LENGTH;
    this.blobsLeft--;
  }

  finish(): Buffer {
    if (this.packAt !== HEADER_LENGTH + this.packCount * PACK_LENGTH || this.blobAt !== this.bytes.length) {
      throw new Error(`index file builder: ${this.packCount} packs and ${this.blobCount} blobs announced, fewer written`);
    }
    return this.bytes;
  }
}

/** The version 2 payload of an index file naming `packs`. */
export function encodeIndexFile(packs: readonly PackEntry[]): Buffer {
  const builder = new IndexFileBuilder(
    packs.length,
    packs.reduce((n, p) => n + p.blobs.length, 0),
  );
  for (const pack of packs) {
    builder.pack((to, at) => to.write(pack.id, at, 'hex'), pack.size, pack.blobs.length);
    for (const b of pack.blobs) builder.blob((to, at) => to.write(b.id, at, 'hex'), b.type === 'tree', b.offset, b.length, b.rawLength);
  }
  return builder.finish();
}

/** Checks an index file's payload whole, then hands its content to `sink`; bad input stops it before the sink sees any. */
export function readIndexFile(payload: Buffer, what: string, sink: IndexSink): void {
  if (payload.subarray(0, 3).equals(MAGIC)) readBinary(payload, what, sink);
  else readJson(decodeJsonIndex(parseJson(payload, what), what), sink);
}

function readBinary(payload: Buffer, what: string, sink: IndexSink): void {
  if (payload.length < HEADER_LENGTH) throw new DriveseedError('CORRUPT', `${what}: index header cut short`);
  if (payload[3] !== INDEX_VERSION) throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: index version ${payload[3]} is not supported`);
  const packCount = payload.readUInt32LE(4);
  const blobCount = payload.readUInt32LE(8);
  if (payload.length !== HEADER_LENGTH + packCount * PACK_LENGTH + blobCount * BLOB_LENGTH) {
    throw new DriveseedError('CORRUPT', `${what}: index of ${packCount} packs and ${blobCount} blobs is ${payload.length} bytes`);
  }
  const blobsAt = HEADER_LENGTH + packCount * PACK_LENGTH;
  let named = 0;
  for (let p = 0; p < packCount; p++) named += payload.readUInt32LE(HEADER_LENGTH + p * PACK_LENGTH + 36);
  if (named !== blobCount) throw new DriveseedError('CORRUPT', `${what}: packs name ${named} blobs, the header ${blobCount}`);
  for (let at = blobsAt; at < payload.length; at += BLOB_LENGTH) {
    if (payload[at] > 1) throw new DriveseedError('CORRUPT', `${what}: unknown blob type ${payload[at]}`);
  }

  let blob = blobsAt;
  for (let p = 0; p < packCount; p++) {
    const at = HEADER_LENGTH + p * PACK_LENGTH;
    const count = payload.readUInt32LE(at + 36);
    if (sink.pack(payload, at, payload.readUInt32LE(at + 32))) {
      for (let i = 0; i < count; i++, blob += BLOB_LENGTH) {
        sink.blob(payload, blob + 1, payload[blob] === 1, payload.readUInt32LE(blob + 33), payload.readUInt32LE(blob + 37), payload.readUInt32LE(blob + 41));
      }
    } else blob += count * BLOB_LENGTH;
  }
}

function readJson(packs: PackEntry[], sink: IndexSink): void {
  for (const pack of packs) {
    if (!sink.pack(Buffer.from(pack.id, 'hex'), 0, pack.size)) continue;
    for (const b of pack.blobs) sink.blob(Buffer.from(b.id, 'hex'), 0, b.type === 'tree', b.offset, b.length, b.rawLength);
  }
}

/** A version 1 (JSON) index file's packs, checked. */
export function decodeJsonIndex(value: unknown, what: string): PackEntry[] {
  const file = value as { version?: unknown; packs?: unknown };
  if (typeof file !== 'object' || file === null) throw new DriveseedError('CORRUPT', `${what}: not an index`);
  if (file.version !== 1) throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: index version ${String(file.version)} is not supported`);
  if (!Array.isArray(file.packs)) throw new DriveseedError('CORRUPT', `${what}: index has no pack list`);
  for (const pack of file.packs as PackEntry[]) {
    if (!isId(pack.id) || !isU32(pack.size) || !Array.isArray(pack.blobs)) throw new DriveseedError('CORRUPT', `${what}: malformed pack entry`);
    for (const blob of pack.blobs) {
      if (!isId(blob.id) || !isBlobType(blob.type) || !isU32(blob.offset) || !isU32(blob.length) || !isU32(blob.rawLength)) {
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
